"""People's names: titles, cue words and name lists (Faker's) around capitalised runs.

A personal title ("Mr.", "Dr", "Nurse"...) before a capitalised name; a relationship or role
word before it ("my patient", "our client,", "his wife,"...); "I'm", "named", "told", "asked"
before a listed given name, or "said", "rang"... after it; a listed given name followed by a
listed surname; the expert's own names; and, once a name is found, its other mentions in the
same text. Judges and justices named by their title, case names and eponyms are left alone.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

log = logging.getLogger(__name__)

# A capitalised name token: Smith, O'Connor, McAllister, Al-Sayed, Bakare-Jones.
_TOK = r"[A-Z][a-z]*(?:['’-]?[A-Z][a-z]+)*(?<=[a-z])(?![\w])"
_TOK_RE = re.compile(_TOK)
_PARTICLE = r"(?:van|von|de|da|del|der|di|du|la|le|bin|ibn|al|ter)"
_SEQ = rf"{_TOK}(?:[ \t]+(?:[A-Z]\.[ \t]+)?(?:{_PARTICLE}[ \t]+)?{_TOK}){{0,3}}"

_TITLES = (
    "Mr|Mrs|Ms|Mx|Miss|Mister|Messrs|Dr|Drs|Doctor|Doctors|Prof|Professor|Professors|Nurse|Sister|"
    "Dame|Sir|Lady|Rev|Reverend|Fr|Father|Pastor|Rabbi|Imam|Midwife|Matron|Coach|Officer|Detective|"
    "Sergeant|Sgt|Constable|Inspector|Captain|Capt"
)
_TITLE_WORDS = frozenset(_TITLES.split("|"))
_CUES = (
    "patient|client|colleague|wife|husband|partner|son|daughter|mother|mum|mom|father|dad|brother|"
    "sister|grandmother|grandfather|granddaughter|grandson|grandma|grandpa|aunt|uncle|niece|nephew|"
    "cousin|friend|boss|manager|supervisor|registrar|consultant|nurse|midwife|surgeon|physician|"
    "resident|intern|counsel|witness|defendant|plaintiff|claimant|respondent|petitioner|appellant|"
    "victim|tenant|landlord|neighbou?r|girlfriend|boyfriend|fianc[ée]e?|carer|caregiver|child|baby|"
    "student|employee|named|called|name\\s+is|name's"
)
_SPEECH_BEFORE = (
    "told|asked|tell|ask|remember|remembered|phoned|rang|emailed|texted|met|visited|saw|treated|"
    "examined|referred|discharged|represented|represent|advised|warned|reassured|thanked|persuaded|"
    "convinced"
)
_CUE_WORDS = frozenset(
    _CUES.replace("\\s+", " ")
    .replace("neighbou?r", "neighbour|neighbor")
    .replace("fianc[ée]e?", "fiance|fiancé|fiancee|fiancée")
    .split("|")
)
_SPEECH_BEFORE_WORDS = frozenset(_SPEECH_BEFORE.split("|"))
_PLURAL_TITLES = frozenset({"Messrs", "Drs", "Doctors", "Professors"})
_LEAD_WORDS = _CUE_WORDS | _SPEECH_BEFORE_WORDS


def _word_before(text: str, end: int) -> tuple[str, int]:
    """The whitespace-delimited word ending at `end` (spaces before `end` skipped), and its start."""
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    lo = max(0, end - 40)  # names, titles and cue words are short
    start = max(text.rfind(" ", lo, end), text.rfind("\n", lo, end), text.rfind("\t", lo, end)) + 1
    if start == 0 and lo > 0:
        start = lo
    return text[start:end], start


def _prefix_kind(text: str, start: int) -> tuple[str, str, int] | None:
    """What the words just before `start` say about the capitalised run there, if anything.

    ("title", w, at) for "Mr." / "Dr"; ("plural", ...) for the second name in "Professors Bray and
    Smith"; ("cue", ...) for "my patient" / "our client," / "named"; ("intro", ...) for "I'm";
    ("verb", ...) for "told" / "asked". `at` is where the word w starts.
    """
    if start == 0 or text[start - 1] not in " \t":
        return None
    last, at = _word_before(text, start)
    if not last:
        return None
    bare = last.rstrip(".")
    if bare in _TITLE_WORDS and (last == bare or last == bare + "."):
        return ("title", bare, at)
    cue = last.rstrip(",:")
    low = cue.lower()
    if low in _CUE_WORDS:
        return ("cue", cue, at)
    if last in ("and", "is", "am", "me"):
        prev, at2 = _word_before(text, at)
        pair = f"{prev} {last}".lower()
        if last == "and":
            # "Professors Bray and Smith": a plural title two or three words back
            for _ in range(3):
                prev, at2 = _word_before(text, at2)
                if prev.rstrip(".") in _PLURAL_TITLES:
                    return ("plural", last, at)
            return None
        if pair == "name is":
            return ("cue", pair, at2)
        if pair in ("i am", "this is", "call me"):
            return ("intro", pair, at2)
        return None
    if last != cue:
        return None  # "patient:" and "client," are cues; other punctuation ends the context
    if last in ("I'm", "I’m"):
        return ("intro", last, at)
    if low in _SPEECH_BEFORE_WORDS:  # "told Tom", "Ask Siobhan"
        return ("verb", last, at)
    return None


_SPEECH_AFTER = re.compile(
    r"[ \t]+(?:said|says|told|asked|rang|phoned|called|emailed|texted|wrote|replied|explained|admitted|"
    r"insisted|mentioned|complained|denied|agreed|refused|came|went|died|signed|cried|laughed|"
    r"remembered|wanted|felt|thought|knew|worried)\b"
)
_SEQ_RULE = re.compile(_SEQ)

# Titles of public office: a name after one is an official acting in office (policy: keep).
_OFFICE = frozenset(
    """
    Justice Justices Judge Judges Chief Magistrate Senator President Governor Congressman
    Congresswoman Representative Secretary General Commissioner Mayor Ambassador Chancellor
    Minister Speaker Chairman Chairwoman Chair Attorney Solicitor Prime King Queen Prince Princess
    Pope Saint St
    """.split()
)
_OFFICE_BEFORE = re.compile(
    r"\b(?:Justice|Justices|Judge|Magistrate|Senator|President|Governor|Congressman|Congresswoman|"
    r"Representative|Secretary|General|Commissioner|Mayor|Ambassador|Chancellor|Minister|King|Queen|"
    r"Prince|Princess|Saint|St\.?)[ \t]+$"
)
# Case names and eponyms (policy: keep).
_CASE_AFTER = re.compile(r"^(?:[ \t]+(?:v\.|vs\.?|versus)[ \t])")
_CASE_BEFORE = re.compile(r"(?:\b(?:v\.|vs\.?|versus)|\b[Ii]n re)[ \t]+$")
_EPONYM_AFTER = re.compile(
    r"^(?:['’]s?)?[ \t]+(?i:disease|syndrome|palsy|sign|test|law|laws|rule|scheme|procedure|reflex|"
    r"sarcoma|lymphoma|an(?:a)?emia|ulcer|tumou?r|phenomenon|principle|doctrine|case|decision|"
    r"opinion|maneuver|manoeuvre|score|scale|criteria|classification|fracture|operation|effect|"
    r"equation|curve|method|theorem|index)\b"
)
# Capitalised words that are never a name, or that end a name (institutions, places, days...).
_NOT_NAME = frozenset(
    """
    The A An And Or But So If In On At To Of For By From With As Is It Its He She We They You I
    His Her Our Their My Your This That These Those There Here Then When Where What Who Why How
    Yes No Not Okay OK Ok Well Um Uh Er Erm Ah Oh Hi Hello Hey Thanks Thank Sorry Please Yeah Yep
    Sure Right Alright Also Just Now Today Tomorrow Yesterday Good Morning Afternoon Evening Night
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
    July August September October November December Christmas Easter
    Court Courts Circuit District County State States Federal Supreme Appeals Appeal Congress Senate
    House Act Acts Rule Rules Section Article Amendment Code Statute Treasury Department Agency Office
    Commission Committee Board Council Bureau Service Services Team Group Unit Ward Clinic Hospital
    Hospitals Centre Center Institute Institutes Foundation Trust University College School Academy
    Library Society Association Program Programme Project Study Trial Network Health Care Medical
    Medicine Surgery Practice Pharmacy Laboratory Lab Company Corp Corporation Inc Ltd LLP LLC Bank
    Fund Funds Street St Road Rd Avenue Ave Lane Way Square Park Place Building Hall Tower Bridge
    North South East West Central Northern Southern Eastern Western Great Greater New Old Upper Lower
    United Kingdom America American British English Chinese European National International Royal
    General Chief Justice Judge Honor Honour Petitioner Petitioners Respondent Respondents Plaintiff
    Defendant Government Appendix Footnote Exhibit Chapter Part Page Table Figure Volume
    Disease Syndrome Palsy Cancer Lymphoma Type Stage Grade Class Level
    God Lord Jesus Christ Internet Web Online Email Phone
    Afghanistan Africa Albania Algeria America Argentina Asia Australia Austria Bangladesh Belgium
    Brazil Britain Bulgaria Canada Chile China Colombia Croatia Cuba Cyprus Denmark Egypt England
    Ethiopia Europe Finland France Germany Ghana Greece Holland Hungary Iceland India Indonesia Iran
    Iraq Ireland Israel Italy Jamaica Japan Kenya Korea Lebanon Libya Malaysia Mexico Morocco Nepal
    Netherlands Nigeria Norway Pakistan Peru Philippines Poland Portugal Qatar Romania Russia Scotland
    Serbia Singapore Somalia Spain Sudan Sweden Switzerland Syria Taiwan Thailand Turkey Uganda Ukraine
    Vietnam Wales Yemen Zealand Zimbabwe Alaska Arizona California Texas Florida Ohio Michigan Oregon
    Kansas Nebraska Colorado Virginia Carolina Georgia Louisiana Maryland Massachusetts Minnesota
    Missouri Tennessee Kentucky Alabama Mississippi Oklahoma Utah Idaho Iowa Wisconsin Illinois Hawaii
    Yorkshire Manchester Birmingham Leeds Glasgow Edinburgh Dublin Belfast Cardiff Bristol Liverpool
    """.split()
)
# Given names that are everyday English words or places: not a name on their own evidence.
_COMMON_GIVEN = frozenset(
    """
    Will May June April August Mark Bill Grant Frank Rose Joy Hope Faith Grace Art Gene Rich Sandy
    Guy Dean Chase Hunter Page Summer Autumn Dawn Ray Lane Justice Chance Major King Sky Story Miles
    Don Jack Pat Sue Bob Rob Drew Wade Ward Case Carol Holly Ivy Lily Iris Ruby Pearl Crystal Amber
    Jade Heather Olive Violet Penny Sunny Star Cherry Ginger Sage Reed Rod Cliff Glen Dale Forest
    Stone Brook River Rock Hill General Judge Doctor Son Young Long Brown Green Gray Grey White
    Black Texas Porter Mitchell Wallace Coleman Denton Bell Graves Lloyd Rennie Said Sterling Royal
    Christian Jesus Golden Bishop Bush Moody Noble Pierce Price Hale Early Love Hunt Marsh Cash Wolf
    Bird Fox Lamb Crane Swan Stewart Liberty Unity Harmony Destiny Trinity Genesis Haven Paris London
    Chelsea Sydney Dallas Austin Houston Phoenix Jordan Kansas Georgia Carolina Virginia Florida
    Indiana Nevada Montana Dakota Asia Africa India China Israel Jersey Brooklyn Madison Lincoln
    Washington Jefferson Hamilton Franklin Kennedy Cameron Sherman Ford Chevy Mercedes Porsche Lexus
    Tiffany Armani Gucci Harley Wesley Memorial Heck Colorado Nebraska Oxley Sarbanes Dodd Frank
    Congress Treasury Court Chief Great Central United National Down Addison Hodgkin Cushing Graves
    Crohn Parkinson Alzheimer Huntington Tourette Asperger Bell Paget Raynaud Wilson Hashimoto
    Babylon Amazon Apple Google Microsoft Tesla Nike Sony Mercy Faith Constance Prudence Patience
    Temperance Felicity Verity Honor Honour Ace Angel Baby Bear Blaze Blue Bronze Cloud Coral
    Daisy Dove Echo Ember Fern Flora Frost Gem Gold Hazel Holly Jasmine Juniper Laurel Lavender
    Maple Marina Meadow Melody Mercy Mist Moon Ocean Poppy Rain Raven Robin Rosemary Saffron Sol
    Storm Sunshine Tempest Wren Winter Sonny Buddy Champ Chip Duke Earl Prince Princess Queen Rex
    Marshal Marshall Sheriff Deacon Pastor Parson Knight Squire Baron Tex Lucky Happy Merry Gay
    Sunday Monday Tuesday Wednesday Thursday Friday Saturday Al Ma Pa So Do Re Mi La Ti Don Dee
    Per Van Von Den Del Della Du Le La Bo Jo Ty Kay Jay Bee Cee Em Gee Kai Lee Ra Sai Su Tu
    Will Won Wan Max Min Rich Nick Jim Tim Kit Kim
    """.split()
)


def _common_words() -> frozenset[str]:
    try:
        from faker.providers.lorem.en_US import Provider as Lorem

        return frozenset(w.capitalize() for w in Lorem.word_list)
    except Exception:  # pragma: no cover - faker is a dependency; still work without the list
        log.warning("faker's English word list is unavailable; using the built-in stop lists only")
        return frozenset()


@dataclass(frozen=True)
class _Lexicon:
    first: frozenset[str]  # given names from any locale: evidence enough next to a strong cue
    first_core: frozenset[str]  # given names listed by two or more locales, or by an English one
    last: frozenset[str]  # surnames


@cache
def name_lexicon() -> _Lexicon:
    """Given names and surnames in Latin script from Faker's person providers (shipped in the wheel)."""
    import faker.providers.person as person

    latin = re.compile(r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)*")
    first_by_locale: dict[str, set[str]] = {}
    last: set[str] = set()
    for mod_info in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"{person.__name__}.{mod_info.name}").Provider
        except Exception:  # pragma: no cover - a broken locale must not stop the export
            log.debug("skipping faker person locale %s", mod_info.name)
            continue
        first = first_by_locale.setdefault(mod_info.name, set())
        for attr in dir(provider):
            target = first if attr.startswith(("first_name", "first_romanized")) else None
            if attr.startswith(("last_name", "last_romanized")):
                target = last
            if target is None:
                continue
            values = getattr(provider, attr)
            if isinstance(values, (tuple, list, set, frozenset, dict)) or hasattr(values, "keys"):
                target.update(v for v in values if isinstance(v, str) and latin.fullmatch(v))
    # "en" is a long tail of registered US names ("Unknown", "Holland"); the others are curated.
    votes: dict[str, int] = {}
    for locale, names in first_by_locale.items():
        weight = 2 if locale in ("en_US", "en_GB", "en_IE", "en_NZ", "en_IN", "en_KE") else 1
        for n in names:
            votes[n] = votes.get(n, 0) + weight
    stop = _common_words() | _COMMON_GIVEN | _NOT_NAME | _OFFICE
    first_all = frozenset(n for n in votes if len(n) > 2 and n not in stop)
    lexicon = _Lexicon(
        first=first_all,
        first_core=frozenset(n for n in first_all if votes[n] >= 2),
        last=frozenset(n for n in last if len(n) > 2 and n not in stop),
    )
    log.debug(
        "name lexicon: %d given names (%d core), %d surnames",
        len(lexicon.first),
        len(lexicon.first_core),
        len(lexicon.last),
    )
    return lexicon


_SUFFIXES = {"Jr", "Sr", "II", "III", "IV", "Esq", "MD", "PhD", "QC", "KC"}


def known_name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for the given names: whole names (any case) and their distinctive single tokens."""
    multi: set[str] = set()
    single: set[str] = set()
    common = _common_words()
    for raw in names:
        tokens = [t for t in re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", raw) if t not in _SUFFIXES]
        full = [t for t in tokens if len(t) > 1]
        if len(full) >= 2:
            multi.add(r"[ \t]+(?:[A-Z]\.[ \t]+)?".join(map(re.escape, full)))
            multi.add(r"[ \t]+".join(map(re.escape, (full[0], full[-1]))))
        for t in full:
            if len(t) >= 3 and t not in common and t not in _NOT_NAME and t not in _COMMON_GIVEN:
                single.add(re.escape(t))
    if not multi and not single:
        return None
    parts = []
    if multi:
        parts.append("(?i:" + "|".join(sorted(multi, key=len, reverse=True)) + ")")
    if single:
        parts.append("|".join(sorted(single, key=len, reverse=True)))
    return re.compile(r"(?<![\w'’-])(?:" + "|".join(parts) + r")(?![\w-]|['’][A-Za-z]{2})")


def _policy_excluded(text: str, start: int, end: int) -> bool:
    """A name kept by policy: an official named by office, a case name, an eponym."""
    before = text[max(0, start - 25) : start]
    after = text[end : end + 30]
    return bool(
        _OFFICE_BEFORE.search(before)
        or _CASE_BEFORE.search(before)
        or _CASE_AFTER.match(after)
        or _EPONYM_AFTER.match(after)
    )


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a capitalised run at the first word that cannot be part of a name."""
    kept_end = None
    for tok in _TOK_RE.finditer(text, start, end):
        word = tok.group()
        if word in _COMPANY:
            return None  # "Acme Holdings Ltd", "Smith Partners": a firm, not a person
        if word in _NOT_NAME or word in _OFFICE:
            break
        kept_end = tok.end()
    if kept_end is None:
        return None
    after = _word_after(text, kept_end)
    if after.rstrip(".,;:") in _COMPANY:
        return None
    return start, kept_end


def _word_after(text: str, pos: int) -> str:
    m = _NEXT_WORD.match(text, pos)
    return m.group(1) if m else ""


_NEXT_WORD = re.compile(r"[ \t]+(\S+)")
_COMPANY = frozenset(
    "Ltd Limited Inc Incorporated LLC LLP PLC Plc Corp Corporation Company Co Group Holdings "
    "Partners Associates Chambers Solicitors GmbH AG SA".split()
)


def judge_run(
    lex: _Lexicon,
    text: str,
    span: tuple[int, int],
    titled: bool,
    found: list[tuple[int, int]],
    weak: set[tuple[int, int]],
) -> None:
    """Decide whether the capitalised run text[span] names a person, from what surrounds it."""
    first = lex.first
    name = text[span[0] : span[1]]
    head = name.split(None, 1)[0]
    prefix = None if titled else _prefix_kind(text, span[0])
    kind = prefix[0] if prefix else None
    if titled or kind in ("title", "plural"):
        if not _OFFICE_BEFORE.search(text, max(0, span[0] - 25), span[0]):
            found.append(span)
        return
    if kind == "cue":
        cue = prefix[1]
        lowered = cue.lower()
        if lowered in ("named", "called", "name is", "name's"):
            ok = head in first
        else:
            # "Client Services", "Smith & Nephew": a capitalised cue mid-sentence is a name itself
            ok = cue[0].islower() or (head in first and _at_sentence_start(text, prefix[2]))
        if ok and not _policy_excluded(text, *span):
            found.append(span)
            return
    if head not in first:
        return
    if kind in ("intro", "verb"):
        if not _policy_excluded(text, *span):
            found.append(span)
        return
    if head == name:
        if _SPEECH_AFTER.match(text, span[1]) and not _policy_excluded(text, *span):
            found.append(span)  # "Kwame said", "Hartley signed"
        return
    # A given name followed by more capitalised tokens: "Tom Smith", "Walter Wheeler Cook".
    # Headings are full of capitalised words ("Ewing Sarcoma Treatment"), so want a known
    # surname, or a widely used given name in the middle of a sentence.
    rest = _TOK_RE.findall(text, span[0] + len(head), span[1])
    if not rest or _policy_excluded(text, *span):
        return
    if rest[-1] in lex.last:
        found.append(span)
    elif head in lex.first_core and len(rest) <= 2 and not _at_sentence_start(text, span[0]):
        found.append(span)
        weak.add(span)


def person_spans(text: str, lex: _Lexicon, known: re.Pattern[str] | None) -> list[tuple[int, int]]:
    """Spans of people's names in text, by the rules in the module docstring."""
    first = lex.first
    found: list[tuple[int, int]] = []
    weak: set[tuple[int, int]] = set()  # found on a given name alone: lend only a known surname

    if known is not None:
        found.extend(m.span() for m in known.finditer(text))

    # One pass over runs of capitalised tokens ("Mr", "Tom Smith", "Walter Wheeler Cook").
    for run in _SEQ_RULE.finditer(text):
        word = run.group()
        titled = False
        if " " not in word and "\t" not in word:
            # One capitalised word, the usual case: "The", "Court", "Acromegaly", "Rapawy".
            if word in _NOT_NAME or word in _TITLE_WORDS or word in _OFFICE:
                continue
            if word not in first:
                # Not a given name: only a title or a cue word just before can make it one.
                before, _ = _word_before(text, run.start())
                bare = before.rstrip(".,:")
                if not (bare in _TITLE_WORDS or bare.lower() in _CUE_WORDS or before == "and"):
                    continue
            span: tuple[int, int] | None = run.span()
        else:
            toks = list(_TOK_RE.finditer(text, run.start(), run.end()))
            i = 0
            # leading titles, non-names and cue words in the run: "Dr Lindqvist", "Nurse
            # Agnieszka Kowalczyk", "Ask Siobhan" (a cue word is then judged as the prefix)
            while i < len(toks) - 1:
                lead = toks[i].group()
                if lead in _TITLE_WORDS:
                    titled = True
                elif lead not in _NOT_NAME and lead.lower() not in _LEAD_WORDS:
                    break
                i += 1
            span = _trim_name(text, toks[i].start(), run.end())
        if span is not None:
            judge_run(lex, text, span, titled, found, weak)

    if not found:
        return []
    # Other mentions of a name already found: "Fred Jones ... Jones", "Mr. Rapawy ... Rapawy's".
    seen: set[str] = set()
    for s, e in found:
        toks = [t for t in _TOK_RE.findall(text, s, e) if len(t) >= 3]
        if (s, e) in weak:
            toks = [t for t in toks[-1:] if t in lex.last]
        seen.update(toks)
    seen -= _NOT_NAME
    seen -= _COMMON_GIVEN
    seen -= _OFFICE
    seen -= _TITLE_WORDS
    if seen:
        alt = re.compile(
            r"(?<![\w'’-])(?:"
            + "|".join(map(re.escape, sorted(seen, key=len, reverse=True)))
            + r")(?![\w-]|['’][A-Za-z]{2})"
        )
        for m in alt.finditer(text):
            if not _policy_excluded(text, *m.span()):
                found.append(m.span())
    return found


def _at_sentence_start(text: str, pos: int) -> bool:
    head = text[:pos].rstrip()
    return not head or head[-1] in '.!?"“(:;\n-–—*•'
