"""Find and redact personal data (emails, phones, URLs, ID numbers, people's names) in exported text.

Everything here is rules and word lists: deterministic, offline (the lists ship inside the
`faker` and `phonenumbers` wheels) and fast enough for the export. docs/pii.md has the policy,
the measured precision/recall and speed, and the known weaknesses.

- email, url: regular expressions; URLs are looked for only around "://" and "." + letter.
- phone: runs of digits written like phone numbers; `phonenumbers` decides (a valid number in a
  common region, or a possible one written the way phone numbers are written: "+", "(area)", or
  a "call / phone / mobile..." word just before).
- id_number: SSNs by shape, credit cards by the Luhn check, NHS numbers by their mod-11 check,
  and any number right after an ID word ("MRN", "case no.", "account number", "passport
  number"...) that has enough digits.
- person: a personal title ("Mr.", "Dr", "Nurse"...) before a capitalised name; a relationship or
  role word before it ("my patient", "our client,", "his wife,", "colleague"...); "I'm", "named",
  "told", "asked" before a listed given name, or "said", "rang"... after it; a listed given name
  followed by a listed surname (Faker's name lists); the names passed as `known_names` (the
  expert's own); and, once a name is found, its other mentions in the same text. Judges and
  justices named by their title, case names ("Liu versus SEC", "Kokesh") and eponyms ("Bell's
  palsy") are left alone: that is the policy.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import phonenumbers

log = logging.getLogger(__name__)


class PIIPolicy(StrEnum):
    """What the export does with an example that carries personal data."""

    redact = "redact"  # replace each span by a placeholder
    hold = "hold"  # keep the example out of the dataset
    off = "off"  # export as is


EMAIL, PHONE, URL, ID_NUMBER, PERSON = "email", "phone", "url", "id_number", "person"
ALL_KINDS: frozenset[str] = frozenset({EMAIL, PHONE, URL, ID_NUMBER, PERSON})
PLACEHOLDERS: dict[str, str] = {
    EMAIL: "[EMAIL]",
    PHONE: "[PHONE]",
    URL: "[URL]",
    ID_NUMBER: "[ID]",
    PERSON: "[PERSON]",
}
# When spans of different kinds overlap, the more specific one wins.
_PRIORITY = {EMAIL: 0, URL: 1, ID_NUMBER: 2, PHONE: 3, PERSON: 4}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    text: str


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: tuple[Span, ...]


# --------------------------------------------------------------------------- emails and URLs

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)

_TLDS = (
    "com|org|net|gov|edu|mil|int|info|biz|io|co|ai|app|dev|me|ly|tv|eu|health|law|legal|"
    "uk|us|ca|au|nz|ie|in|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|br|mx|ar|cl|za|ng|ke|gh|"
    "jp|cn|kr|sg|hk|tw|ru|ua|tr|il|ae|sa|pk|bd|lk|ph|my|id|th|vn|gr|cz|sk|hu|ro|bg|hr|si|is"
)
_URL_TAIL = r"[^\s<>\"'\[\]{}|\\^`]*"
# Matched where a URL may start; found from the cheap hints "://" and ".x" (a dot before a letter).
_URL_AT = re.compile(
    rf"(?:(?:https?|ftp)://|www\.){_URL_TAIL}"
    # a bare domain: lower-case labels and a known top-level domain, an optional path
    rf"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])(?:/{_URL_TAIL})?"
)
_URL_HINT = re.compile(r"://|\.[a-z]")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TRAILING = ".,;:!?'\""


def _url_spans(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    done = 0
    for hint in _URL_HINT.finditer(text):
        i = hint.start()
        if i < done:
            continue
        allowed = _SCHEME_CHARS if hint.group() == "://" else _HOST_CHARS
        while i > 0 and text[i - 1] in allowed:
            i -= 1
        if i > 0 and (text[i - 1] in "@/_" or text[i - 1].isalnum()):
            continue  # the domain of an email address, or the middle of a path
        m = _URL_AT.match(text, i)
        if not m:
            continue
        end = _trim_url(text, i, m.end())
        if end - i > 4:
            out.append((i, end))
            done = end
    return out


def _trim_url(text: str, start: int, end: int) -> int:
    """Drop trailing punctuation and an unbalanced closing bracket from a URL match."""
    while end > start:
        c = text[end - 1]
        if c in _TRAILING:
            end -= 1
        elif c == ")" and text.count("(", start, end) < text.count(")", start, end):
            end -= 1
        else:
            break
    return end


# --------------------------------------------------------------------------- ID numbers and phones
# Both start from runs of digits ("chunks"); a text with fewer than four digits is skipped at once.


class _DigitClass(dict):
    """str.translate table: every digit to "0", everything else to " " (filled in as met)."""

    def __missing__(self, code: int) -> str:
        value = "0" if chr(code).isdigit() else " "
        self[code] = value
        return value


_DIGIT_CLASS = _DigitClass()
_DROP_DIGITS = str.maketrans("", "", "0123456789")
_CHUNK = re.compile(r"\d+(?:[-/:.() \t]+\d+)*")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:.-")
_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}")
_CARD = re.compile(r"[3-6]\d{3}(?:[ -]?\d{2,6}){2,4}")
_NHS = re.compile(r"(\d{3})([ -]?)(\d{3})\2(\d{4})")
_NHS_CUE = re.compile(r"\b(?:nhs|chi)\b[^.\n]{0,30}$")  # on lower-cased text
_ID_CUE = re.compile(  # on lower-cased text, ending where the number starts
    r"(?x)\b(?:"
    r"ssn|social\s+security(?:\s+(?:number|no\.?|\#))?"
    r"|(?:nhs|chi|nino|ni|national\s+insurance)\s+(?:number|no\.?|\#)"
    r"|mrn|medical\s+record(?:\s+(?:number|no\.?|\#))?|hospital\s+(?:number|no\.?|\#)"
    r"|(?:patient|record|member(?:ship)?|employee|staff|student|customer|client|file|matter"
    r"|invoice|tax|insurance|policy|passport|licen[cs]e|reference|ref\.?|claim|card|case|docket"
    r"|account|acct\.?|a/c|routing)\s+(?:id|number|no\.?|num\.?|\#)"
    r"|claim\s+reference|case\s+reference|patient\s+id|member\s+id"
    r"|case|docket|claim|account|acct\.?|a/c|passport|card|id|iban|ref\.?|reference"
    r")"
    r"(?:\s*(?:[:#=,]|is|was)\s*|\s+)(?:number\s+)?\#?$"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# A cue word alone ("case", "account", "ID") is weak: the number must look like an identifier.
_STRONG_CUE = re.compile(
    r"ssn|social|nhs|chi|nino|national|mrn|medical|hospital|number|no\b|no\.|num|#|iban|routing"
)
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_PHONE_CUE = re.compile(
    r"\b(?:call|calls|called|calling|phone|phoned|tel|telephone|mobile|cell|cellphone|fax|ring|"
    r"rang|text|texted|whatsapp|number|line|landline|reach|reached|contact|on|dial|dialled|dialed|voicemail)"
    r"\b[^.\n\d]{0,20}$"
)  # on lower-cased text
_NOT_PHONE = re.compile(
    r".*[/:].*|\d{1,4}[-.]\d{1,2}[-.]\d{2,4}"
)  # "12/03/2021", "9:30", "19.03.2021"
_PHONE_REGIONS = ("US", "GB", "AU", "IN", "CA", "IE", "NZ")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _nhs_ok(digits: str) -> bool:
    total = sum((ord(c) - 48) * (10 - i) for i, c in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == ord(digits[9]) - 48


def _phone_ok(cand: str, before: str) -> bool:
    """`before` is the lower-cased text just before the candidate."""
    digits = sum(c.isdigit() for c in cand)
    if not 7 <= digits <= 15:
        return False
    cued = bool(_PHONE_CUE.search(before))
    shaped = cand.startswith("+") or "(" in cand
    regions = (None,) if cand.startswith("+") else _PHONE_REGIONS
    for region in regions:
        try:
            num = phonenumbers.parse(cand, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            # A bare run of digits or a date-like "1963-1985" needs a hint that it is a phone.
            if cued or shaped or digits >= 10:
                return True
        elif (cued or shaped) and phonenumbers.is_possible_number(num) and digits >= 9:
            return True
    return False


def _iban_ok(value: str) -> bool:
    """The ISO 13616 mod-97 check."""
    compact = value.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # a rare character changed length when lower-cased: keep offsets
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return low


def _number_spans(text: str, want_id: bool, want_phone: bool) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    # Finding digits through str.translate and str.find is several times faster than a regex scan.
    classes = text.translate(_DIGIT_CLASS)
    if classes.count("0") < 4:
        return out
    if want_id and classes.count("0") >= 12:
        out.extend((*m.span(), ID_NUMBER) for m in _IBAN.finditer(text) if _iban_ok(m.group()))
    low: str | None = None
    n = len(text)
    pos = classes.find("0")
    while pos != -1:
        m = _CHUNK.match(text, pos)
        s, e = m.span() if m else (pos, pos + 1)
        pos = classes.find("0", e)
        raw = text[s:e]
        digits = len(raw) - len(raw.translate(_DROP_DIGITS))
        if digits < 4:
            continue
        if s and text[s - 1] == "(":
            s -= 1
        if s and text[s - 1] == "+":
            s -= 1
        elif s > 1 and text[s - 2 : s] == "+ ":
            s -= 2
        # drop separators the chunk pattern let in at its end ("(415) 867-2309)" has none)
        while e > s and not text[e - 1].isdigit():
            e -= 1
        raw = text[s:e]
        # the token the digits belong to: "A2291-0075", "1:21-cr-00399-RDM", "NCT00004992"
        ts, te = s, e
        if " " not in raw and "\t" not in raw:
            while ts > 0 and text[ts - 1] in _TOKEN_CHARS:
                ts -= 1
            while te < n and text[te] in _TOKEN_CHARS:
                te += 1
            while te > e and not text[te - 1].isalnum():
                te -= 1
            while ts < s and not text[ts].isalnum() and text[ts] not in "+(":
                ts += 1
        glued = ts < s or te > e  # letters or more digits around: an identifier, not a bare number
        if low is None:
            low = _lower_same_length(text)
        before = low[max(0, ts - 45) : ts]
        if want_id:
            kind_span = _id_kind(text, raw, s, e, ts, te, glued, before)
            if kind_span:
                out.append((*kind_span, ID_NUMBER))
                continue
        if want_phone and digits >= 7 and not glued and not _NOT_PHONE.fullmatch(raw):
            prev = text[s - 1] if s else " "
            nxt = text[e] if e < n else " "
            if (
                prev in "$£€#"
                or nxt in "%"
                or (nxt in ".," and e + 1 < n and text[e + 1].isdigit())
            ):
                continue
            if _phone_ok(raw, before[-30:]):
                out.append((s, e, PHONE))
    return out


def _id_kind(
    text: str, raw: str, s: int, e: int, ts: int, te: int, glued: bool, before: str
) -> tuple[int, int] | None:
    """The span of an ID number around the digits text[s:e], if they are one."""
    if not glued:
        if _SSN.fullmatch(raw):
            return s, e
        digits = raw.translate(str.maketrans("", "", " -"))
        if digits.isdigit() and 13 <= len(digits) <= 19 and _CARD.fullmatch(raw) and _luhn(digits):
            return s, e
        nhs = _NHS.fullmatch(raw)
        if nhs and _nhs_ok(nhs.group(1) + nhs.group(3) + nhs.group(4)):
            if _NHS_CUE.search(before) or (
                nhs.group(2) == " " and not _PHONE_CUE.search(before[-30:])
            ):
                return s, e
    cue = _ID_CUE.search(before)
    if not cue:
        return None
    value = text[ts:te]
    digits = sum(c.isdigit() for c in value)
    if digits < 4 or _YEAR.fullmatch(value):
        return None
    strong = bool(_STRONG_CUE.search(cue.group()))
    shaped = digits >= 5 or any(c in value for c in "-/:") or any(c.isalpha() for c in value)
    return (ts, te) if (strong or shaped) else None


# --------------------------------------------------------------------------- people's names

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
def _name_lexicon() -> _Lexicon:
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


def _known_name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
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


# --------------------------------------------------------------------------- the scrubber


class PIIScrubber:
    """Finds personal data in text and redacts it. Build once, use for many texts (thread-safe)."""

    def __init__(
        self, *, kinds: frozenset[str] = ALL_KINDS, known_names: Iterable[str] = ()
    ) -> None:
        unknown = set(kinds) - ALL_KINDS
        if unknown:
            raise ValueError(
                f"unknown PII kinds: {sorted(unknown)}; expected some of {sorted(ALL_KINDS)}"
            )
        self.kinds = frozenset(kinds)
        self._known = _known_name_pattern(known_names) if PERSON in self.kinds else None
        if PERSON in self.kinds:
            self._lex = _name_lexicon()

    # -- public API

    def find(self, text: str) -> list[Span]:
        """Non-overlapping spans of personal data, in text order."""
        if not text:
            return []
        cands: list[tuple[int, int, str]] = []
        kinds = self.kinds
        if EMAIL in kinds and "@" in text:
            cands.extend((*m.span(), EMAIL) for m in _EMAIL.finditer(text))
        if URL in kinds and ("://" in text or "." in text):
            cands.extend((s, e, URL) for s, e in _url_spans(text))
        want_id, want_phone = ID_NUMBER in kinds, PHONE in kinds
        if want_id or want_phone:
            cands.extend(_number_spans(text, want_id, want_phone))
        if PERSON in kinds:
            cands.extend((s, e, PERSON) for s, e in self._person_spans(text))
        return self._resolve(text, cands)

    def redact(self, text: str) -> Redaction:
        spans = self.find(text)
        if not spans:
            return Redaction(text, ())
        parts = []
        pos = 0
        for s in spans:
            parts.append(text[pos : s.start])
            parts.append(PLACEHOLDERS[s.kind])
            pos = s.end
        parts.append(text[pos:])
        return Redaction("".join(parts), tuple(spans))

    def has_pii(self, text: str) -> bool:
        return bool(self.find(text))

    def apply(self, text: str, policy: PIIPolicy | str) -> str | None:
        """The text as the export should ship it under `policy`; None means hold the example back."""
        policy = PIIPolicy(policy)
        if policy is PIIPolicy.off:
            return text
        if policy is PIIPolicy.hold:
            return None if self.has_pii(text) else text
        return self.redact(text).text

    # -- internals

    @staticmethod
    def _resolve(text: str, cands: list[tuple[int, int, str]]) -> list[Span]:
        if not cands:
            return []
        # Merge overlapping spans of one kind, then let the more specific kind win overlaps.
        merged: list[tuple[int, int, str]] = []
        for s, e, k in sorted(cands, key=lambda c: (c[2], c[0], -c[1])):
            if merged and merged[-1][2] == k and s <= merged[-1][1]:
                ps, pe, _ = merged[-1]
                merged[-1] = (ps, max(pe, e), k)
            else:
                merged.append((s, e, k))
        kept: list[tuple[int, int, str]] = []
        for s, e, k in sorted(merged, key=lambda c: (_PRIORITY[c[2]], c[0] - c[1], c[0])):
            if all(e <= ks or s >= ke for ks, ke, _ in kept):
                kept.append((s, e, k))
        kept.sort()
        return [Span(s, e, k, text[s:e]) for s, e, k in kept]

    def _judge_run(
        self,
        text: str,
        span: tuple[int, int],
        titled: bool,
        found: list[tuple[int, int]],
        weak: set[tuple[int, int]],
    ) -> None:
        """Decide whether the capitalised run text[span] names a person, from what surrounds it."""
        lex = self._lex
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

    def _person_spans(self, text: str) -> list[tuple[int, int]]:
        lex = self._lex
        first = lex.first
        found: list[tuple[int, int]] = []
        weak: set[tuple[int, int]] = set()  # found on a given name alone: lend only a known surname

        if self._known is not None:
            found.extend(m.span() for m in self._known.finditer(text))

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
                self._judge_run(text, span, titled, found, weak)

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
