"""Fine-tuning datasets, through real interviews, SQL, Chroma and the MiniLM model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from sqlalchemy import select, update

from knowledge.export import ExportOptions, export
from knowledge.export.dedupe import lsh_plan, near_duplicates
from knowledge.export.formats import jsonl_paths
from knowledge.export.formats.check import check_file
from knowledge.export.split import choose_validation
from knowledge.storage import Entry, EntryStatus, Expert, Turn
from knowledge.storage.models import utcnow
from tests.conftest import real_pairs

CURATOR = "cli:carla"
PHONE = "+44 7700 900461"


def long_answers(name: str, n: int, min_words: int = 40) -> list[str]:
    """Real answers long enough that the engine moves on without follow-ups (mostly)."""
    out = [p["answer"].strip() for p in real_pairs(name) if len(p["answer"].split()) >= min_words]
    assert len(out) >= n, f"{name} has only {len(out)} long answers"
    return out[:n] if n else out


def clean_answers(name: str, n: int, min_words: int = 40) -> list[str]:
    """Long real answers in which the PII scrubber finds nothing."""
    from knowledge.pii import PIIScrubber

    sc = PIIScrubber(known_names=["Ana Ruiz"])
    out = [a for a in long_answers(name, 0, min_words) if not sc.has_pii(a)]
    assert len(out) >= n
    return out[:n]


async def interview(services, expert_id: int, guide: str, answers: list[str]) -> int:
    """Answer guide questions in order; end the interview. Returns its id."""
    ask = await services.engine.start(expert_id, guide)
    iid = ask.interview_id
    for text in answers:
        reply = await services.engine.answer(iid, text)
        if reply.next is None:
            break
    await services.engine.end(iid)
    return iid


async def expert(services, key: str, name: str):
    ex = await services.experts.identify("terminal", key, name)
    return await services.experts.give_consent(ex.id)


async def approve(services, *, where=None, edit: dict[int, str] | None = None) -> list[int]:
    """Approve entries (all, or those matching `where`) as a curator would; sync Chroma."""
    async with services.db.sessions() as s, s.begin():
        q = select(Entry).order_by(Entry.id)
        if where is not None:
            q = q.where(where)
        ids = []
        for e in await s.scalars(q):
            e.status = EntryStatus.approved
            e.decided_by = CURATOR
            e.decided_at = utcnow()
            if edit and e.id in edit:
                e.edited_answer = edit[e.id]
                e.edited_by = CURATOR
            ids.append(e.id)
    await services.indexer.sync()
    return ids


async def entries(services, interview_id: int | None = None) -> list[Entry]:
    async with services.db.sessions() as s:
        q = select(Entry).order_by(Entry.id)
        if interview_id is not None:
            q = q.where(Entry.interview_id == interview_id)
        return list(await s.scalars(q))


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def contents(path: Path) -> str:
    """Every message's text in an openai file, parsed (JSON escapes undone)."""
    return "\n".join(m["content"] for rec in lines(path) for m in rec["messages"])


def assistant_texts(path: Path) -> list[str]:
    return [
        m["content"] for rec in lines(path) for m in rec["messages"] if m["role"] == "assistant"
    ]


@pytest_asyncio.fixture
async def corpus(services):
    """Two consented experts, three interviews (litigator, physician), all entries approved."""
    ana = await expert(services, "ana", "Ana Ruiz")
    ben = await expert(services, "ben", "Ben Okafor")
    lit = long_answers("scotus_2019.18-1501-t01", 8)
    med = long_answers("medquad_5_NIDDK_QA", 8)
    ivs = [
        await interview(services, ana.id, "litigator", lit[:4]),
        await interview(services, ana.id, "litigator", lit[4:8]),
        await interview(services, ben.id, "physician", med[:5]),
    ]
    await approve(services)
    return {"ana": ana, "ben": ben, "interviews": ivs, "answers": lit + med}


def opts(tmp_path: Path, fmt: str = "openai", **kw) -> ExportOptions:
    suffix = "" if fmt == "hf" else ".jsonl"
    return ExportOptions(out=tmp_path / "out" / f"ds-{fmt}{suffix}", format=fmt, **kw)


# ---- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "alpaca"])
@pytest.mark.asyncio
async def test_a_jsonl_export_passes_its_check_and_loads_with_datasets(
    services, corpus, tmp_path, fmt
):
    import datasets

    report = await export(services, opts(tmp_path, fmt, split=0.3, seed=5, turns="both"))
    train, val = jsonl_paths(report.out, ["train", "validation"]).values()
    assert report.examples["train"] and report.examples["validation"]
    for path in (train, val):
        assert check_file(path, fmt) == [] or all(
            p.level == "warning" for p in check_file(path, fmt)
        )
    ds = datasets.load_dataset(
        "json",
        data_files={"train": str(train), "validation": str(val)},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    assert ds["train"].num_rows == report.examples["train"]
    assert ds["validation"].num_rows == report.examples["validation"]
    n_entries = len(await entries(services))
    if fmt == "alpaca":  # single-turn only
        assert report.written == n_entries and report.not_in_format == 3
    else:
        assert report.written == n_entries + 3  # one multi-turn example per interview


@pytest.mark.asyncio
async def test_an_openai_line_holds_its_id_and_messages_and_nothing_else(
    services, corpus, tmp_path
):
    report = await export(services, opts(tmp_path, "openai"))
    for rec in lines(report.out):
        assert list(rec) == ["id", "messages"]
        roles = [m["role"] for m in rec["messages"]]
        assert roles[0] == "system" and "assistant" in roles
        assert all(set(m) == {"role", "content"} and m["content"].strip() for m in rec["messages"])
    assert check_file(report.out, "openai") == []


@pytest.mark.asyncio
async def test_the_system_message_is_the_guides_persona(services, corpus, tmp_path):
    report = await export(services, opts(tmp_path, "openai", guide="physician"))
    persona = services.guides.get("physician").persona
    recs = lines(report.out)
    assert recs and all(r["messages"][0] == {"role": "system", "content": persona} for r in recs)


@pytest.mark.asyncio
async def test_an_hf_folder_has_a_card_and_loads_with_load_dataset(services, corpus, tmp_path):
    import datasets
    from huggingface_hub import DatasetCard, DatasetCardData

    report = await export(services, opts(tmp_path, "hf", split=0.3, seed=2))
    folder = report.out
    card = DatasetCard.load(folder / "README.md")
    header = card.data.to_dict()
    # The card parses strictly and round-trips through huggingface_hub's DatasetCardData.
    assert DatasetCardData(**header).to_dict() == header
    assert header["license"] == "cc-by-4.0" and header["language"] == ["en"]
    assert header["annotations_creators"] == ["expert-generated"]
    assert header["size_categories"] == ["n<1K"]
    configs = {c["config_name"]: c for c in header["configs"]}
    assert list(configs) == ["multi", "single"] and configs["single"]["default"] is True
    infos = {i["config_name"]: i for i in header["dataset_info"]}
    singles = {s["name"]: s for s in infos["single"]["splits"]}
    assert {k: v["num_examples"] for k, v in singles.items()} == {
        "train": report.parts["single/train"],
        "validation": report.parts["single/validation"],
    }
    assert sum(s["num_examples"] for i in infos.values() for s in i["splits"]) == report.written
    for section in ("## Personal data", "## Bias, risks and limitations", "## Review"):
        assert section in card.text
    assert services.settings.embeddings.model.removeprefix("bundled:") in card.text
    assert "| litigator | " in card.text and "| physician | " in card.text
    assert "| `job_smarts` |" in card.text or "| `background` |" in card.text

    single = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "hf-cache"))
    multi = datasets.load_dataset(str(folder), "multi", cache_dir=str(tmp_path / "hf-cache"))
    assert set(single) == {"train", "validation"}
    assert {r["kind"] for r in single["train"]} == {"single"}  # no answer twice in a split
    assert {r["kind"] for r in multi["train"]} == {"multi"}
    # What datasets measured is what the card says: num_bytes and num_examples per split.
    assert single["train"].info.splits["train"].num_bytes == singles["train"]["num_bytes"]
    assert single["train"].num_rows == singles["train"]["num_examples"]
    row = single["train"][0]
    assert set(row) == {"id", "kind", "guide", "profession", "probes", "licence", "messages"}
    assert row["messages"][0]["role"] == "system" and row["licence"] == "CC-BY-4.0"
    assert check_file(folder, "hf") == []


@pytest.mark.asyncio
async def test_the_hf_check_fails_on_a_card_datasets_only_partly_reads(services, corpus, tmp_path):
    import yaml

    report = await export(services, opts(tmp_path, "hf", turns="single"))
    readme = report.out / "README.md"
    _, head, body = readme.read_text().split("---\n", 2)
    header = yaml.safe_load(head)
    info = header["dataset_info"]  # one config: a mapping, as datasets writes it
    for split in info["splits"]:
        del split["num_bytes"]  # what tacit's cards used to lack
    readme.write_text("---\n" + yaml.safe_dump(header) + "---\n" + body)
    problems = check_file(report.out, "hf")
    assert any("num_bytes" in p.message for p in problems)
    assert any("datasets warned" in p.message and "Ignoring" in p.message for p in problems)


# ---- who is never exported -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_withdrawn_and_never_consented_experts_are_never_exported(services, corpus, tmp_path):
    gone = await expert(services, "cy", "Cy Lund")
    never = await expert(services, "dee", "Dee Marsh")
    gone_answers = long_answers("scotus_2019.18-8369-t01", 3)
    never_answers = long_answers("medquad_1_CancerGov_QA", 3)
    await interview(services, gone.id, "litigator", gone_answers)
    await interview(services, never.id, "physician", never_answers)
    async with services.db.sessions() as s, s.begin():
        await s.execute(update(Expert).where(Expert.id == never.id).values(consented_at=None))
    await approve(services)
    await services.experts.forget(gone.id, actor=f"expert:{gone.id}")
    # Chroma still holds the forgotten expert's vectors until the outbox is drained: no sync here.

    report = await export(services, opts(tmp_path, "openai", pii="off"))
    text = contents(report.out)
    for answer in gone_answers + never_answers:
        assert answer[:80] not in text
    assert corpus["answers"][0][:80] in text
    # Asking for them by name changes nothing.
    for who in (never.pseudonym, str(never.id), gone.pseudonym):
        r = await export(services, opts(tmp_path / who, "openai", expert=who))
        assert r.written == 0 and r.out.read_text() == ""


@pytest.mark.asyncio
async def test_the_experts_name_never_appears_only_the_pseudonym(services, corpus, tmp_path):
    report = await export(services, opts(tmp_path, "sharegpt"))
    prov = report.out.with_name("ds-sharegpt.provenance.jsonl").read_text()
    data = report.out.read_text()
    assert corpus["ana"].pseudonym in prov and corpus["ben"].pseudonym in prov
    for name in ("Ana Ruiz", "Ben Okafor", '"ana"', '"ben"'):
        assert name not in prov and name not in data


# ---- personal data ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_phone_number_in_an_answer_is_redacted(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    answers = long_answers("primock57_day1_consultation01", 2, min_words=10)
    planted = f"{answers[0]} If it gets worse, ring me on {PHONE} any time."
    await interview(services, ana.id, "physician", [planted, answers[1]])
    await approve(services)
    report = await export(services, opts(tmp_path, "openai", pii="redact"))
    text = contents(report.out)
    assert PHONE not in text and "7700" not in text
    assert "[PHONE]" in text
    assert report.redactions["phone"] >= 1
    prov = lines(report.out.with_name("ds-openai.provenance.jsonl"))
    assert any(e["redactions"].get("phone") for p in prov for e in p["entries"])


@pytest.mark.asyncio
@pytest.mark.parametrize("pii", ["redact", "hold"])
async def test_worker_processes_find_the_same_personal_data(services, tmp_path, monkeypatch, pii):
    from knowledge.export import scrub

    ana = await expert(services, "ana", "Ana Ruiz")
    answers = long_answers("primock57_day1_consultation01", 3, min_words=10)
    planted = f"{answers[0]} Ana Ruiz here, ring me on {PHONE}."
    await interview(services, ana.id, "physician", [planted, *answers[1:]])
    await approve(services)
    inline = await export(services, opts(tmp_path / "inline", "openai", pii=pii))
    monkeypatch.setattr(scrub, "PII_PARALLEL_MIN", 0)
    assert scrub._pii_pool(pii, 1) is not None  # two cores or more here
    pooled = await export(services, opts(tmp_path / "pooled", "openai", pii=pii))
    assert pooled.out.read_bytes() == inline.out.read_bytes()
    assert pooled.redactions == inline.redactions and pooled.held_pii == inline.held_pii
    assert PHONE not in contents(pooled.out) and "Ana Ruiz" not in contents(pooled.out)
    assert pooled.redactions["phone"] >= 1 if pii == "redact" else pooled.held_pii >= 1


@pytest.mark.asyncio
async def test_under_hold_an_example_with_a_phone_number_is_left_out(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    answers = clean_answers("medquad_5_NIDDK_QA", 3)
    planted = f"{answers[0]} Call me on {PHONE} if you need the details."
    iid = await interview(services, ana.id, "physician", [planted, answers[1], answers[2]])
    await approve(services)
    report = await export(services, opts(tmp_path, "openai", pii="hold"))
    text = contents(report.out)
    assert PHONE not in text and answers[0][:80] not in text
    assert answers[1][:80] in text
    assert report.held_pii == 1
    n = len(await entries(services, iid))
    assert report.kinds["single"] == n - 1


@pytest.mark.asyncio
async def test_an_entry_a_curator_flagged_for_personal_data_is_left_out(services, corpus, tmp_path):
    first = (await entries(services))[0]
    async with services.db.sessions() as s, s.begin():
        await s.execute(update(Entry).where(Entry.id == first.id).values(flagged_pii=True))
    report = await export(services, opts(tmp_path, "openai", turns="single"))
    assert report.held_flagged == 1
    assert first.answer[:80] not in contents(report.out)


# ---- near-duplicates -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_near_duplicates_are_removed_with_the_stored_vectors_not_re_encoded(
    services, tmp_path
):
    ana = await expert(services, "ana", "Ana Ruiz")
    ben = await expert(services, "ben", "Ben Okafor")
    base = long_answers("scotus_2019.18-1501-t01", 3)
    await interview(services, ana.id, "litigator", base)
    # Ben says the first thing again, nearly word for word, and the second exactly.
    await interview(services, ben.id, "litigator", [base[0] + " That is all.", base[1]])
    await approve(services)
    batches = services.embedder.batches

    report = await export(services, opts(tmp_path, "openai", turns="single", pii="off"))
    assert services.embedder.batches == batches  # nothing was encoded
    assert report.vectors_from_chroma == report.entries == 5
    assert report.vectors_from_sql == 0
    assert report.duplicates_removed == 2 and report.dedupe_method == "exact"
    texts = assistant_texts(report.out)
    assert len(texts) == 3
    assert sum(t.startswith(base[0][:200]) for t in texts) == 1
    assert base[0] + " That is all." in texts  # the longest of the near-duplicates is kept


@pytest.mark.asyncio
async def test_vectors_missing_from_chroma_are_read_from_sql(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    base = long_answers("scotus_2019.18-1501-t01", 2)
    await interview(services, ana.id, "litigator", [base[0], base[1], base[0]])
    ids = await approve(services)
    await services.index.delete(ids[:2])  # Chroma lost some vectors
    batches = services.embedder.batches
    report = await export(services, opts(tmp_path, "openai", turns="single"))
    assert services.embedder.batches == batches
    assert report.vectors_from_sql == 2 and report.vectors_from_chroma == 1
    assert report.duplicates_removed == 1


@pytest.mark.asyncio
async def test_among_duplicates_the_curators_edited_one_is_kept(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    ben = await expert(services, "ben", "Ben Okafor")
    text = long_answers("medquad_5_NIDDK_QA", 1)[0]
    await interview(services, ana.id, "physician", [text + " And more detail here."])
    iid = await interview(services, ben.id, "physician", [text])
    ben_entry = (await entries(services, iid))[0]
    edited = text.replace("kidney", "kidneys")  # still the same vector: edits are not re-embedded
    await approve(services, edit={ben_entry.id: edited})
    report = await export(services, opts(tmp_path, "openai", turns="single", pii="off"))
    assert report.duplicates_removed == 1
    assert assistant_texts(report.out) == [edited]


@pytest.mark.asyncio
async def test_similarity_above_one_turns_removal_off(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    text = long_answers("medquad_5_NIDDK_QA", 1)[0]
    await interview(services, ana.id, "physician", [text, text])
    await approve(services)
    r = await export(services, opts(tmp_path, turns="single", dedupe_similarity=1.01))
    assert r.duplicates_removed == 0 and r.written == 2 and r.dedupe_method == "off"


def unit(rng, n, d=384):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def plant(rng, v, n_pairs, low=0.95, high=1.0):
    """Make rows 2k+1 near-copies of rows 2k (cosine in [low, high])."""
    d = v.shape[1]
    for k in range(n_pairs):
        a, b = 2 * k, 2 * k + 1
        c = rng.uniform(low, high)
        noise = rng.standard_normal(d).astype(np.float32)
        noise -= noise @ v[a] * v[a]
        noise /= np.linalg.norm(noise)
        v[b] = c * v[a] + np.sqrt(1 - c * c) * noise
        v[b] /= np.linalg.norm(v[b])


def test_lsh_finds_planted_near_duplicates_like_the_exact_search():
    rng = np.random.default_rng(7)
    v = unit(rng, 12_000)
    plant(rng, v, 300, low=0.96)
    pref = np.arange(len(v))
    exact = near_duplicates(v, 0.95, pref, exact_limit=10**9)
    lsh = near_duplicates(v, 0.95, pref, exact_limit=100)
    assert exact.method == "exact" and lsh.method == "lsh"
    assert exact.removed == 300
    assert lsh.removed >= 297  # 99.5% at the threshold, more above it
    assert set(np.flatnonzero(lsh.of >= 0)) <= set(np.flatnonzero(exact.of >= 0))
    half = near_duplicates(v.astype(np.float16), 0.95, pref, exact_limit=100)  # as exports store
    assert half.removed >= 297
    assert set(np.flatnonzero(half.of >= 0)) <= set(np.flatnonzero(exact.of >= 0))
    bits, tables = lsh_plan(12_000, 0.95)
    assert 1 <= bits <= 20 and tables >= 1


def test_removal_keeps_the_preferred_row_of_each_group():
    rng = np.random.default_rng(1)
    v = unit(rng, 10)
    v[3] = v[5] = v[7] = v[1]
    dup = near_duplicates(v, 0.95, np.array([7, 0, 1, 2, 3, 4, 5, 6, 8, 9]))
    assert dup.of.tolist().count(7) == 3 and dup.of[7] == -1


# ---- splits and provenance -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_validation_split_is_by_interview_disjoint_and_deterministic(
    services, corpus, tmp_path
):
    async def run(where: str, seed: int):
        r = await export(services, opts(tmp_path / where, "openai", split=0.4, seed=seed))
        prov = lines(r.out.with_name("ds-openai.provenance.jsonl"))
        by_split: dict[str, set[int]] = {}
        for p in prov:
            by_split.setdefault(p["split"], set()).add(p["interview_id"])
        files = jsonl_paths(r.out, ["train", "validation"])
        return by_split, {k: p.read_bytes() for k, p in files.items()}

    split_a, files_a = await run("a", 11)
    split_b, files_b = await run("b", 11)
    assert split_a["train"] and split_a["validation"]
    assert not split_a["train"] & split_a["validation"]
    assert split_a == split_b and files_a == files_b


def test_choose_validation_takes_whole_interviews_to_about_the_share():
    ivs = np.arange(1, 101)
    sizes = np.full(100, 10)
    val = choose_validation(ivs, sizes, 0.1, seed=3)
    assert len(val) == 10 and val == choose_validation(ivs, sizes, 0.1, seed=3)
    assert val != choose_validation(ivs, sizes, 0.1, seed=4)
    assert choose_validation(ivs[:2], sizes[:2], 0.9, seed=1).__len__() == 1  # train keeps one
    assert choose_validation(ivs, sizes, 0.0, seed=1) == set()


@pytest.mark.asyncio
async def test_provenance_traces_every_example_to_its_entries_and_interview(
    services, corpus, tmp_path
):
    report = await export(services, opts(tmp_path, "openai", split=0.3))
    prov = lines(report.out.with_name("ds-openai.provenance.jsonl"))
    assert len(prov) == report.written and len({p["id"] for p in prov}) == len(prov)
    by_id = {e.id: e for e in await entries(services)}
    pseudonyms = {
        corpus["ana"].id: corpus["ana"].pseudonym,
        corpus["ben"].id: corpus["ben"].pseudonym,
    }
    for p in prov:
        assert p["licence"] == services.settings.export.licence
        assert p["consent_version"] == services.settings.consent.version
        for e in p["entries"]:
            row = by_id[e["entry_id"]]
            assert row.interview_id == p["interview_id"]
            assert pseudonyms[row.expert_id] == p["expert"]
            assert e["curator"].startswith("curator-") and e["decided_at"]
            assert e["probe"] == row.probe and p["guide"] == row.guide_slug
            assert e["edited"] is False
            async with services.db.sessions() as s:
                turn = await s.get(Turn, row.turn_id)
            assert e["followup"] == turn.followup and e["focus"] == turn.focus
        if p["kind"] == "single":
            assert p["id"] == f"entry-{p['entry_ids'][0]}"
        else:
            assert p["id"] == f"interview-{p['interview_id']}"
    # One curator decided everything: one pseudonym, and their login appears nowhere.
    assert len({e["curator"] for p in prov for e in p["entries"]}) == 1
    assert "carla" not in report.out.with_name("ds-openai.provenance.jsonl").read_text()


def provenance_of(report) -> list[dict]:
    if report.format == "hf":
        return lines(report.out / "provenance.jsonl")
    return lines(report.out.with_name(f"ds-{report.format}.provenance.jsonl"))


def row_ids(report) -> list[str]:
    import pyarrow.parquet as pq

    if report.format == "hf":
        files = sorted(report.out.glob("data/**/*.parquet"))
        return [i for f in files for i in pq.read_table(f, columns=["id"])["id"].to_pylist()]
    return [rec["id"] for rec in lines(report.out)]


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "alpaca", "hf"])
@pytest.mark.asyncio
async def test_every_row_carries_the_id_its_provenance_is_keyed_by_stable_across_exports(
    services, corpus, tmp_path, fmt
):
    first = await export(services, opts(tmp_path / "a", fmt, turns="single"))
    again = await export(services, opts(tmp_path / "b", fmt, turns="single"))
    ids = row_ids(first)
    assert ids and len(set(ids)) == len(ids) and ids == row_ids(again)
    assert sorted(p["id"] for p in provenance_of(first)) == sorted(ids)
    curators = [
        {e["curator"] for p in provenance_of(r) for e in p["entries"]} for r in (first, again)
    ]
    assert len(curators[0]) == 1 and curators[0] == curators[1]  # the same pseudonym each time


@pytest.mark.asyncio
async def test_curator_edits_replace_the_original_text(services, corpus, tmp_path):
    first = (await entries(services))[0]
    edited = "A curator's cleaner version of this answer, with the hesitations taken out."
    await approve(services, where=Entry.id == first.id, edit={first.id: edited})
    report = await export(services, opts(tmp_path, "openai", pii="off"))
    texts = assistant_texts(report.out)
    assert edited in texts and first.answer not in texts
    prov = lines(report.out.with_name("ds-openai.provenance.jsonl"))
    single = next(p for p in prov if p["id"] == f"entry-{first.id}")
    assert single["entries"][0]["edited"] is True


@pytest.mark.asyncio
async def test_a_multi_turn_example_holds_only_approved_turns_in_order(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    answers = long_answers("scotus_2019.18-8369-t01", 4)
    iid = await interview(services, ana.id, "litigator", answers)
    rows = await entries(services, iid)
    assert len(rows) == 4
    # Turns 1, 2 and 4 approved; turn 3 rejected.
    await approve(services, where=Entry.id.in_([rows[0].id, rows[1].id, rows[3].id]))
    report = await export(services, opts(tmp_path, "openai", turns="multi", pii="off"))
    (rec,) = lines(report.out)
    msgs = rec["messages"]
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * 3
    assert [m["content"] for m in msgs[2::2]] == [answers[0], answers[1], answers[3]]
    async with services.db.sessions() as s:
        from knowledge.storage import Turn

        turns = {t.seq: t for t in await s.scalars(select(Turn).where(Turn.interview_id == iid))}
    # Opening: the standalone question; next: as asked; after the gap: standalone again.
    assert msgs[1]["content"] == rows[0].question
    assert msgs[3]["content"] == turns[2].question
    assert msgs[5]["content"] == rows[3].question


@pytest.mark.asyncio
async def test_an_interview_with_one_approved_turn_gives_no_multi_turn_example(services, tmp_path):
    ana = await expert(services, "ana", "Ana Ruiz")
    iid = await interview(services, ana.id, "litigator", long_answers("scotus_2019.18-8369-t01", 2))
    rows = await entries(services, iid)
    await approve(services, where=Entry.id == rows[0].id)
    report = await export(services, opts(tmp_path, "openai"))
    assert report.kinds == {"single": 1}


# ---- filters ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_filters_by_guide_expert_status_and_since(services, corpus, tmp_path):
    all_ = await export(services, opts(tmp_path / "all", turns="single"))
    lit = await export(services, opts(tmp_path / "lit", turns="single", guide="litigator"))
    ben = await export(
        services, opts(tmp_path / "ben", turns="single", expert=corpus["ben"].pseudonym)
    )
    later = await export(
        services,
        opts(tmp_path / "later", turns="single", since=datetime.now(UTC) + timedelta(hours=1)),
    )
    pending = await export(services, opts(tmp_path / "pending", turns="single", status="pending"))
    assert lit.written + ben.written == all_.written
    assert lit.by_profession.keys() == {"litigator"}
    assert ben.by_profession.keys() == {"physician"}
    assert later.written == 0 and pending.written == 0


# ---- the check -------------------------------------------------------------------------------

GOOD = {"messages": [{"role": "user", "content": "Why?"}, {"role": "assistant", "content": "So."}]}


def test_check_reports_one_problem_per_broken_openai_line(tmp_path):
    broken = [
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]},
        {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "a"}]},
        {**GOOD, "provenance": {"entry": 1}},
        {"messages": [*GOOD["messages"], {"role": "bot", "content": "hi"}]},
    ]
    path = tmp_path / "bad.jsonl"
    good = [GOOD] * 10
    path.write_text("\n".join(json.dumps(x) for x in [*good[:5], *broken, *good[5:]]) + "\n")
    problems = [p for p in check_file(path, "openai", trl=False) if p.level == "error"]
    assert [p.line for p in problems] == [6, 7, 8, 9]
    assert "assistant" in problems[0].message
    assert "empty" in problems[1].message
    assert "provenance" in problems[2].message
    assert "'bot'" in problems[3].message


def test_check_reports_broken_sharegpt_and_alpaca_lines(tmp_path):
    conv = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}
    sg = tmp_path / "sg.jsonl"
    sg.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                conv,
                {"conversations": [{"from": "human", "value": "q"}]},
                {"conversations": [{"from": "user", "value": "q"}, {"from": "gpt", "value": "a"}]},
                {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": " "}]},
            ]
        )
    )
    assert [p.line for p in check_file(sg, "sharegpt", trl=False)] == [2, 3, 4]
    al = tmp_path / "al.jsonl"
    al.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {"instruction": "q", "input": "", "output": "a", "system": "s"},
                {"instruction": "q", "input": ""},
                {"instruction": "q", "input": "", "output": "a", "id": 3},
            ]
        )
    )
    assert [p.line for p in check_file(al, "alpaca")] == [2, 3]


def test_check_with_trl_accepts_what_the_exporter_writes(tmp_path):
    pytest.importorskip("trl")
    path = tmp_path / "ok.jsonl"
    path.write_text("\n".join(json.dumps(GOOD) for _ in range(10)) + "\n")
    assert check_file(path, "openai", trl=True) == []
