"""The expert's own phrases: what in an answer is specific enough to follow up on.

Candidates are the runs of content words between stopwords and punctuation (RAKE's candidate
rule), cut to at most four words, plus acronyms. Each word of a candidate gets two numbers:

- **specificity**: how rare the word is in English. The rarity is read off the bundled MiniLM's
  own WordPiece vocabulary: that vocabulary keeps the ~30,000 most frequent word pieces of its
  training text, so a word it stores whole is common ("heart", "block"), and a word it has to cut
  into pieces is rare ("fibrillation" is fi-##bri-##llation). More pieces, rarer word.
- **novelty**: whether this interview has heard the word before, from the interviewer (the guide's
  questions and every follow-up) or from the expert's earlier answers.

A phrase scores the mean of specificity x novelty over its words, with a bonus for each extra
word (a multi-word term says more than one of its words alone). docs/interviewing.md shows how
this was chosen: it agrees with what real interviewers picked up in the PriMock57 consultations and
the SCOTUS arguments more often than the alternatives measured there.

Terms are normalised (case, hyphens, plural, possessive) so that "SCA" and "SCAs", or "heart-block"
and "heart blocks", are one term, never asked about twice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

# Function words, fillers, and the vague words that make a phrase say nothing
# ("things", "way", "lot"): never the edge of a phrase.
STOPWORDS = frozenset(
    """a about above across after afterwards again against all almost alone along already also
    although always am among an and another any anyhow anyone anything anyway anywhere are around as
    at back be became because become becomes been before beforehand being below beside besides
    between beyond both but by can cannot could did do does doing done down during each either else
    elsewhere enough etc even ever every everyone everything everywhere except few for from further
    get gets getting got had has have having he hence her here hers herself him himself his how
    however i if in indeed into is it its itself just keep kept last least less let like likely
    made make makes making many may maybe me meanwhile might mine more moreover most mostly much
    must my myself namely neither never nevertheless next no nobody none nor not nothing now nowhere
    of off often on once one ones only onto or other others otherwise our ours ourselves out over
    own per perhaps please put quite rather really said same say says see seem seemed seeming seems
    several she should since so some somehow someone something sometime sometimes somewhere still
    such take taken than that the their theirs them themselves then thence there thereafter thereby
    therefore therein thereupon these they thing things this those though through throughout thus
    to together too toward towards under until up upon us used very via was way ways we well were
    what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
    whether which while whither who whoever whole whom whose why will with within without would yet
    you your yours yourself yourselves yes yeah okay ok oh um uh er erm mm hmm ah well right sure
    think thought know knew known mean means meant go goes going gone went come comes came want
    wanted try tried tell told ask asked lot lots bit kind kinds sort sorts stuff type types
    first second third new old good bad big small great little long high low different important
    actually basically certainly clearly definitely exactly generally obviously probably really
    simply usually normally typically especially particularly literally honestly anyway also
    can't couldn't didn't doesn't don't hadn't hasn't haven't isn't shouldn't wasn't weren't
    won't wouldn't i'm i've i'd i'll you're you've you'd we're we've they're they've it's that's
    there's here's what's let's earlier later sooner soon ago today tomorrow yesterday
    include includes included including involve involves involved require requires required
    become becomes seem seems allow allows allowed provide provides provided contain contains
    affect affects occur occurs happen happens happened tend tends appear appears remain remains
    describe described suggest suggests depend depends explain explained mention mentioned
    consider considered decide decided enable enables prevent prevents cause causes caused
    help helps helped need needs needed use uses using show shows showed shown give gives gave
    given find finds found look looks looked feel feels felt call called calls
    two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million half dozen""".split()
)
# Honorifics and forms of address: a phrase with one names a person, never a thing to ask about.
_TITLES = frozenset("mr mrs ms miss dr prof sir madam justice chief honor honour".split())
# Word endings that mark an adjective or a verb: a phrase does not end on one ("considered",
# "frivolous", "characterize"), as a noun phrase ends on its noun.
_NOT_A_HEAD = re.compile(r"(ed|ize|ise|ous|ful|ive|able|ible|less|ish)$")

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’-][A-Za-z0-9]+)*|\d[\d.,:%]*|[^\sA-Za-z\d]")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{1,5}s?$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# Words that open a situation: what follows is something that happens ("when the pressure drops").
_EVENT_BEFORE = frozenset("when whenever if once after before during until unless as".split())
# Verbs after a noun phrase that make it an event ("the alarm goes off", "a crisis develops").
_EVENT_AFTER = frozenset(
    """happens happened happen occurs occurred occur starts started start develops developed
    develop fires fired goes went comes came begins began breaks broke drops dropped rises rose
    kicks kicked appears appeared shows showed turns turned gets got sets set hits hit""".split()
)
_PLURAL_EXCEPTIONS = re.compile(r"(ss|us|is|ous|ics|sis|xis|ies)$")
MAX_WORDS = 4


@dataclass(frozen=True)
class Phrase:
    """A phrase the expert used, as they wrote it, with what the interviewer needs to know."""

    text: str  # as the expert wrote it: "ventricular fibrillation"
    key: str  # normalised: "ventricular fibrillation"; equal keys are the same term
    kind: str  # "term", "event", "activity", "category" or "thing" (see `kind_of`)
    score: float  # specificity x novelty, higher is more worth asking about
    sentence: str  # the sentence of the answer it came from

    @property
    def words(self) -> list[str]:
        return self.key.split()


def normalise(text: str) -> str:
    """One key per term: lower case, hyphens as spaces, no possessive, singular words."""
    words = []
    for w in re.split(r"[\s-]+", text.strip()):
        w = re.sub(r"['’]s$|['’]$", "", w)
        words.append(singular(w.lower()))
    return " ".join(w for w in words if w)


def singular(word: str) -> str:
    """English plural to singular, for matching only: "SCAs" -> "sca", "arrhythmias" -> ..."""
    if len(word) <= 3 or _PLURAL_EXCEPTIONS.search(word) and not word.endswith("ies"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def normalise_text(texts: Iterable[str]) -> str:
    """Whole texts as normalised words, to look a phrase's key up in: " ".join of keys."""
    words = []
    for t in texts:
        words += [normalise(w) for w in _TOKEN.findall(t) if w[0].isalnum()]
    return " ".join(w for w in words if w)


def same_term(a: str, b: str) -> bool:
    """Whether two normalised keys name the same thing: equal, or one inside the other."""
    if a == b:
        return True
    pa, pb = f" {a} ", f" {b} "
    return pa in pb or pb in pa


def content(word: str) -> bool:
    low = word.lower().replace("’", "'")
    return len(low) > 1 and low not in STOPWORDS and low[0].isalpha() and not low.endswith("ly")


class Rarity:
    """How rare a word is in English, from the bundled MiniLM's WordPiece vocabulary.

    0 for a word the vocabulary holds whole (common), 1 more for each extra piece (rarer). A word
    written in capitals (an acronym) counts as rare: its letters mean nothing apart.
    """

    def __init__(self, vocab: Iterable[str] | None = None):
        self._vocab = frozenset(vocab) if vocab is not None else _bundled_vocab()

    @cache  # noqa: B019 (one per process; the vocabulary never changes)
    def __call__(self, word: str) -> float:
        if _ACRONYM.match(word) and not word.istitle():
            return 2.0
        return float(self._pieces(word.lower()) - 1)

    def _pieces(self, word: str) -> int:
        """WordPiece's greedy longest-match-first split, counted."""
        word = re.sub(r"['’]", "", word)
        pieces, start = 0, 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self._vocab:
                    break
                end -= 1
            if end == start:  # no piece fits: unknown, as rare as it gets
                return pieces + len(word) - start
            pieces += 1
            start = end
        return max(1, pieces)


@cache
def _bundled_vocab() -> frozenset[str]:
    from knowledge.index.embeddings import BUNDLED_MODEL, resolve_model

    path = resolve_model(BUNDLED_MODEL)
    from pathlib import Path

    with open(Path(path) / "vocab.txt", encoding="utf-8") as f:
        return frozenset(line.rstrip("\n") for line in f)


@cache
def default_rarity() -> Rarity:
    return Rarity()


def heard(texts: Iterable[str]) -> Counter:
    """How often each normalised content word was said in these texts."""
    c: Counter = Counter()
    for t in texts:
        c.update(singular(w.lower()) for w in _TOKEN.findall(t) if content(w))
    return c


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def candidates(answer: str) -> list[tuple[str, str, list[str], int]]:
    """(phrase, sentence, the sentence's tokens, where the phrase starts) for every run of 1 to
    MAX_WORDS content words in the answer."""
    out = []
    for sent in sentences(answer):
        tokens = _TOKEN.findall(sent)
        run: list[int] = []
        for i, tok in enumerate([*tokens, "."]):
            if tok[0].isalpha() and content(tok):
                run.append(i)
                continue
            for n in range(1, min(MAX_WORDS, len(run)) + 1):
                for j in range(len(run) - n + 1):
                    span = run[j : j + n]
                    if _noun_phrase([tokens[i] for i in span]):
                        out.append(
                            (_join(tokens, span, at_start=span[0] == 0), sent, tokens, span[0])
                        )
            run = []
    return out


def _noun_phrase(words: list[str]) -> bool:
    """Whether a run of content words can be a noun phrase, by its shape alone."""
    lows = [w.lower() for w in words]
    if any(w.strip(".") in _TITLES for w in lows):
        return False  # a person: "Chief Justice", "Dr Smith"
    head = words[-1]
    if not _ACRONYM.match(head) and _NOT_A_HEAD.search(lows[-1]) and len(lows[-1]) > 4:
        return False
    if len(words) == 1 and lows[0].endswith("ing") and not words[0][0].isupper():
        return False  # alone, "converging" is the verb of its sentence, not a thing
    if len(words) > 1 and lows[-1] in _EVENT_AFTER:
        return False  # "the advisory fires": the verb of a clause, not part of its subject
    # "patient's health habits": a phrase does not open on a possessive, unless it is a name
    # ("Addison's disease").
    return not (re.search(r"['’]s$", lows[0]) and not words[0][0].isupper())


def _join(tokens: list[str], span: list[int], *, at_start: bool = False) -> str:
    words = [tokens[i] for i in span]
    first = words[0]
    # A capital only because the sentence starts there: "Physical exam" -> "physical exam".
    if at_start and first.istitle() and not (len(words) > 1 and words[1][0].isupper()):
        words[0] = first.lower()
    return " ".join(words)


def kind_of(phrase: str, tokens: list[str], start: int) -> str:
    """What the phrase names, from its own shape and the expert's grammar around it:

    - "term": an acronym or a name written with capitals mid-sentence (TCAS, Addison's Disease);
    - "event": something that happens ("when the pressure drops": after when/if/during..., or
      before happens/starts/develops...);
    - "activity": something the expert does (ends in -ing: "taking a history");
    - "category": a plural (kinds of it can be told apart: "red flags");
    - "thing": anything else.
    """
    words = phrase.split()
    n = len(words)
    before = [t.lower() for t in tokens[max(0, start - 3) : start]]
    after = [t.lower() for t in tokens[start + n : start + n + 2]]
    if any(_ACRONYM.match(w) and not w.istitle() for w in words):
        return "term"
    if start > 0 and all(w[0].isupper() for w in words) and tokens[start - 1] not in ".!?":
        return "term"
    if any(b in _EVENT_BEFORE for b in before) or (after and after[0] in _EVENT_AFTER):
        return "event"
    head = words[-1].lower()
    if head.endswith("ing") and len(head) > 5:
        return "activity"
    if singular(head) != head and not _ACRONYM.match(words[-1]):
        return "category"
    return "thing"


def extract(
    answer: str,
    *,
    heard_before: Counter | None = None,
    rarity: Rarity | None = None,
    length_bonus: float = 0.35,
) -> list[Phrase]:
    """The answer's phrases, best first; one per normalised key (its best-scoring form)."""
    rarity = rarity or default_rarity()
    heard_before = heard_before or Counter()
    best: dict[str, Phrase] = {}
    for text, sent, tokens, start in candidates(answer):
        words = text.split()
        values = []
        for w in words:
            spec = 1.0 + rarity(w)
            seen = heard_before[singular(w.lower())]
            # A word the interviewer already said is not the expert's to offer.
            values.append(spec if not seen else 0.1 * spec)
        # The phrase's edges must carry meaning: a run that starts or ends on a word the
        # interview has heard before says less than the same run without it.
        score = sum(values) / len(values) * (1.0 + length_bonus * (len(words) - 1))
        if min(values[0], values[-1]) < 0.5 * max(values):
            score *= 0.5
        key = normalise(text)
        if key not in best or score > best[key].score:
            best[key] = Phrase(text, key, kind_of(text, tokens, start), score, sent)
    return sorted(best.values(), key=lambda p: (-p.score, answer.find(p.text)))
