"""Who holds the stance of each sentence of an article: rules over attribution patterns, with the actor
dictionary as a gazetteer.

    from pipeline.actors import load_dictionary
    from pipeline.holders import find_holders
    holders = find_holders(sentences, source="Levant Wire", dictionary=load_dictionary())
    holders[0].actor, holders[0].written       # "Turkish Government", "Ankara"

The holder is the speaker of a quote or of reported speech ("X said", "said X", "according to X", "X told Y
that"), the subject of a stance verb ("Jordan welcomed"), or the agent of a passive one ("was condemned by
X"); when the reported speech itself says what another actor did or said ("X said Y had rejected"), that
actor. A pronoun or "the group" is the actor it refers to; a quote that runs on into the next sentence keeps
its speaker; otherwise the sentence is in the article's own voice and its holder is the source.

Why rules and not a dependency parse: spaCy's English models are on the package index only as third-party
re-uploads, and the rules reach the target F1 on the gold set (bench/holders.py, bench/holders_results.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipeline.actors import Dictionary

# Verbs whose subject holds what the clause says: reporting verbs, then stance and position verbs. Finite
# forms only ("saying" belongs to the clause before it); base forms only where they follow an auxiliary.
SPEECH_VERBS = """said says say told tells added stated declared announced asked replied responded respond
wrote tweeted noted stressed explained claimed acknowledged admitted confirmed cautioned argued argues
insisted insists warned warns urged urges vowed pledged promised described accused comment commented reassure
reassured admits""".split()
STANCE_VERBS = """welcomed welcomes welcome rejected rejects reject condemned condemns denounced denounces
backed backs supported supports support opposed opposes oppose praised praises hailed hails criticised
criticized dismissed dismisses endorsed endorses slammed refused refuses accepted accepts accept agreed agrees
demanded demands blocked defended defends questioned denied denies protested objected discouraged encouraged
pressed believe believes want wants fear fears regretted applauded offered proposed voted signalled signaled
called calls""".split()
NEEDS_PARTICLE = {"put": "it", "ruled": "out", "pushed": "for"}  # "put it plainly", "ruled out", "pushed for"
PASSIVE_VERBS = r"\w+(?:ed|en)|told|made|held"

# Between a subject and its verb: auxiliaries, negation, adverbs, and one verb taking an infinitive
# ("has long argued", "did not comment", "has yet to respond", "have tried to reassure").
_AUX = (r"(?:(?:has|have|had|will|would|can|could|did|does|do|is|was|were|are|also|not|never|long|repeatedly|"
        r"already|so\s+far|now|still|further|only|privately|publicly|again|yet|first|then|quickly|since|"
        r"swiftly|strongly|firmly|\w+ly|(?:tried|sought|refused|offered|agreed|continued|wants|hopes|appears|"
        r"seemed|ready|willing|prepared|keen|determined|eager|unwilling|reluctant)\s+to|to)\s+)*")
_VERB = re.compile(r"(?<![\w'-])(?P<aux>" + _AUX + r")(?P<verb>"
                   + "|".join(sorted({*SPEECH_VERBS, *STANCE_VERBS, *NEEDS_PARTICLE}, key=len, reverse=True))
                   + r")(?P<particle>\s+(?:for|on|it|out))?(?![\w'-])", re.I)
_PASSIVE = re.compile(r"\b(?:was|were|is|are|has\s+been|have\s+been|had\s+been|being|been)\s+(?:\w+ly\s+)?(?:"
                      + PASSIVE_VERBS + r")(?:\s+[\w-]+){0,3}?\s+by\s+(?P<agent>[^,;:.]+?)"
                      r"(?=\s+(?:as|that|because|after|during|when|while)\b|[,;:.]|$)", re.I)
_INVERTED = re.compile(r"\s+(?P<subject>[^,;:.?!_]+)")
_ACCORDING = re.compile(r"\baccording\s+to\s+(?P<agent>[^,;:.]+)", re.I)
_PARTICIPLE = re.compile(r",\s+(?:saying|calling|accusing|describing|insisting|warning|rejecting|urging|"
                         r"adding|arguing)\b", re.I)
# A word before a "verb" that makes it a noun or a clause that is not a statement: "its support", "the rest
# of the world should welcome".
_BLOCKERS = set("""should must ought to who which that whose whom its their his her our my your the a an of
for in on with any no every this these those""".split())
_SUBORDINATOR = re.compile(r"\b(?:until|unless|if|once|because|whether|before|after|as\s+long\s+as)\s+"
                           r"(?!.*,)", re.I)
_TIME = re.compile(r"\s+(?:on|last|this|late\s+on|early\s+on|late|early)\s+(?:Monday|Tuesday|Wednesday|"
                   r"Thursday|Friday|Saturday|Sunday|week|month|year|night|morning|evening)\b.*$", re.I)
_QUOTES = "\"“”«»"
_OPENING = "\"“«"

_PRONOUNS = {"he": "person", "she": "person", "him": "person", "her": "person", "it": "thing",
             "its": "thing", "they": "any", "their": "any", "them": "any"}
_FIRST_PERSON = {"i", "we", "our", "my"}
_LEADING = re.compile(r"^(?:(?:and|but|yet|so|however|also|then|meanwhile|as|while|although|though|now|"
                      r"privately|publicly|separately|later|earlier|instead)\b[\s,]*)+", re.I)
_DETERMINERS = re.compile(r"^(?:(?:the|a|an|some|several|many|most|two|three|four|five|dozens\s+of|"
                          r"hundreds\s+of|thousands\s+of|hundred|thousand|one|other|senior)\s+)+", re.I)
_PREPOSITIONS = set("in at on for from after before with by to during since under over across near".split())
_TAIL = re.compile(r"\s+(?:in|from|at|on|of|who|whose|which|with|near|across|inside|outside|close\s+to|"
                   r"for|under|based)\b.*$", re.I)
_TITLES = re.compile(r"^(?:(?:Governor|President|Prime\s+Minister|Minister|General|Gen\.|Sheikh|Dr\.?|Mr\.?|"
                     r"Mrs\.?|Ms\.?|Prof\.?|Colonel|Col\.|Commander|Imam|Opposition\s+figure|Spokesman|"
                     r"Spokeswoman|Ambassador|Judge)\s+)+")
_NAME_PARTICLES = {"al", "bin", "ibn", "of", "for", "the", "and"}
_NAME = re.compile(r"(?:[A-Z][\w'’-]+|al-[A-Z][\w'’-]+|bin|ibn|of|for|and)(?:\s+(?:[A-Z][\w'’-]+|al-[\w'’-]+|"
                   r"bin|ibn|of|for|the|and))*")
# Words that say what a person is: "the league's secretary-general" is a person who speaks for the league.
_ROLE_WORDS = set("""president minister spokesman spokeswoman spokesperson envoy commander leader head chief
official officer emir king prince governor columnist researcher analyst teacher secretary-general diplomat
member lawmaker negotiator fighter mother father resident doctor""".split())
_GENERIC = _ROLE_WORDS | set("""officials members spokesmen ministers commanders leaders sources people side
statement office representatives figures""".split())
_COLLECTIVE = set("""opposition government coalition committee council league ministry army group alliance
movement regime presidency administration""".split())
# "The presidency said": the government named last.
_INSTITUTIONS = {"government", "presidency", "cabinet", "authorities", "administration", "regime"}
MAX_UNKNOWN_WORDS = 4  # a longer "subject" is a clause the rules misread, not a holder


@dataclass(frozen=True)
class Holder:
    actor: str  # canonical actor; as written when the dictionary has none; the source for the article's voice
    written: str  # as the sentence names it ('' for the article's voice)
    organization: str = ""
    how: str = "article voice"  # speech, stance verb, passive, according to, continued quote, article voice
    personal: bool = False  # a person or an office: what "he" and "she" refer to
    known: bool = False  # found in the actor dictionary


@dataclass
class _Clause:
    start: int  # where the subject begins
    verb_start: int
    verb_end: int
    subject: str
    how: str
    after_comma: bool = False  # the subject follows a comma or a quote: "..., X said." / '"..." X said'
    apposition: str = ""  # "Samir Haddad, a member of the Azaz council, said": who the subject is


@dataclass
class _Memory:
    """What the article has named so far, for pronouns, "the group" and surnames."""
    holders: list[Holder] = field(default_factory=list)
    named: list[Holder] = field(default_factory=list)  # actors of the dictionary mentioned anywhere


def _mask_quotes(text: str, inside: bool = False) -> tuple[str, bool]:
    """The text with quoted words blanked (their verbs are the speaker's words, not attribution), and whether
    a quote is still open at its end; `inside`: the text starts inside a quote."""
    masked = list(text)
    for i, char in enumerate(text):
        if char in _QUOTES:
            inside = (char in _OPENING) and not (char == '"' and inside)
            continue
        if inside:
            masked[i] = "_" if not char.isspace() else char
    return "".join(masked), inside


def _subject_before(masked: str, end: int, floor: int) -> tuple[int, str, bool, str]:
    """The subject that ends at `end`: back to the start of its clause (not before `floor`, the end of the
    verb before it), past introductory phrases ("In a statement on Friday, the coalition said") and
    appositions ("Samir Haddad, a teacher, said"). Returns where the subject starts, the subject, whether it
    follows a comma or a quote, and its apposition."""
    left = max([masked.rfind(c, 0, end) for c in _QUOTES + ";:()"] + [floor - 1])
    for word in (" that ", " but ", " while ", " whereas "):
        found = masked.rfind(word, 0, end)
        if found >= 0:
            left = max(left, found + len(word) - 2)
    subordinate = _SUBORDINATOR.search(masked, left + 1, end)
    if subordinate:  # "talks were pointless until Turkey agreed": a condition, not a statement
        return subordinate.end(), "", False, ""
    segment = masked[left + 1:end]
    after_quote = left >= 0 and masked[left] in _QUOTES
    chunks = segment.split(",")
    apposition = ""
    if len(chunks) >= 3 and not chunks[-1].strip():  # "X, an apposition, said"
        chosen = len(chunks) - 3
        apposition = chunks[-2]
    else:
        chosen = len(chunks) - 1
    offset = left + 1 + sum(len(c) + 1 for c in chunks[:chosen])
    subject = chunks[chosen]
    stripped = _TIME.sub("", _LEADING.sub("", subject.strip()))  # "Ankara on Thursday ruled out"
    words = stripped.split()
    if len(words) > 1 and words[-1].lower() in _PRONOUNS:  # "said on Sunday it would ..."
        stripped = words[-1]
    start = offset + subject.rfind(stripped) if stripped else offset
    return start, stripped.strip(" _"), after_quote or chosen > 0, apposition


def _clauses(masked: str) -> list[_Clause]:
    clauses = []
    floor = 0
    for match in _VERB.finditer(masked):
        verb = match.group("verb").lower()
        particle = (match.group("particle") or "").strip().lower()
        if verb in NEEDS_PARTICLE and particle != NEEDS_PARTICLE[verb]:
            continue
        before = masked[:match.start()].split()
        if before and before[-1].lower() in _BLOCKERS:
            continue
        how = "speech" if verb in SPEECH_VERBS or verb == "put" else "stance verb"
        start, subject, after_comma, apposition = _subject_before(masked, match.start(), floor)
        floor = match.end("verb")
        if clauses and (subject.lower() in ("and", "but") or subject.lower().endswith((" and", " but"))):
            # "X described the meeting as positive and said ...": the same subject
            start, subject, after_comma, apposition = (clauses[-1].start, clauses[-1].subject,
                                                       clauses[-1].after_comma, clauses[-1].apposition)
        preceding = masked[:match.start()].rstrip().rstrip(",")
        after_quote = bool(preceding) and preceding[-1] in _QUOTES
        inverted = _INVERTED.match(masked, match.end()) if not subject and after_quote else None
        if inverted and how == "speech":
            # '"...," said the commander of the SDF.'
            clauses.append(_Clause(inverted.start("subject"), match.start("verb"), inverted.end(),
                                   inverted.group("subject").strip(), how, after_comma=True))
            continue
        if not subject or subject.lower() in ("who", "which", "that"):
            continue
        clauses.append(_Clause(start, match.start("verb"), match.end(), subject, how, after_comma,
                               apposition))
    for match in _PARTICIPLE.finditer(masked):  # ", saying ...": the subject of the clause before
        head = _main_subject(masked[:match.start()])
        if head:
            clauses.append(_Clause(0, match.start(), match.end(), head, "speech"))
    for pattern, how in ((_PASSIVE, "passive"), (_ACCORDING, "according to")):
        for match in pattern.finditer(masked):
            agent = match.group("agent").strip(" _")
            if agent and (how == "according to" or _could_act(agent)):
                clauses.append(_Clause(match.start("agent"), match.start(), match.end(), agent, how,
                                       after_comma=masked[:match.start()].rstrip().endswith(",")))
    return sorted(clauses, key=lambda c: c.verb_start)


def _could_act(agent: str) -> bool:
    """Whether the agent of a passive can hold a stance: 'by the coalition', 'by refugee groups', 'by Jordan',
    not 'by the lack of progress'."""
    head = _TAIL.sub("", agent).split()
    return bool(head) and (head[-1][0].isupper() or head[-1].endswith("s") or head[-1].lower() in _COLLECTIVE
                           or head[-1].lower() in _ROLE_WORDS)


def _main_subject(text: str) -> str:
    """The subject of a sentence's main clause: after any introductory phrase ("In the border town, ..."),
    up to the first verb-like word."""
    chunks = [c for c in text.split(",") if c.strip()]
    while len(chunks) > 1 and chunks[0].split()[0].lower() in _PREPOSITIONS:
        chunks.pop(0)
    words = []
    for word in (chunks[0] if chunks else "").split():
        if word.lower() in ("has", "have", "had", "was", "were", "is", "are", "will", "would") or (
                words and word.islower() and word.endswith("ed") and word != "hundred"):
            break
        words.append(word)
    return " ".join(words)


def _choose(clauses: list[_Clause]) -> tuple[_Clause, _Clause | None] | None:
    """The clause whose subject holds the sentence, and the reporting clause around it (for a pronoun)."""
    if not clauses:
        return None
    last = clauses[-1]
    if last.how in ("speech", "according to") and last.after_comma and len(clauses) > 1:
        return clauses[0], last  # "Damascus had rejected it, a Syrian official said."
    main = clauses[0]
    if main.how in ("speech", "according to"):
        inner = [c for c in clauses[1:] if c.verb_start > main.verb_end]
        if inner:
            return inner[0], main  # "Officials said Damascus had agreed ..."
    return main, None


def _clean_unknown(subject: str) -> str:
    """A holder the dictionary does not know, as a name for it: 'Hundreds of protesters in Azaz' ->
    'protesters'. A capital that only starts the sentence goes; a phrase that starts with a preposition is
    not a holder."""
    text = _TAIL.sub("", _DETERMINERS.sub("", subject.strip(" ,_")))
    if text and text.split()[0].lower() in _PREPOSITIONS:
        return ""
    if text and not any(word[0].isupper() for word in text.split()[1:]):
        text = text[0].lower() + text[1:]
    return text


def _is_name(words: list[str]) -> bool:
    return (1 < len(words) <= 5 and words[0][0].isupper() and words[-1][0].isupper()
            and all(w[0].isupper() or w in _NAME_PARTICLES or w.startswith("al-") for w in words))


class _Resolver:
    def __init__(self, dictionary: Dictionary, memory: _Memory):
        self.dictionary = dictionary
        self.memory = memory

    def resolve(self, subject: str, how: str) -> Holder | None:
        mentions = self.dictionary.find(subject)
        personal = bool(_ROLE_WORDS & {w.strip("'’s").lower() for w in re.split(r"[\s']+", subject)})
        if mentions:
            actor = mentions[0].actor
            return Holder(actor.name, subject.strip(), actor.organization, how,
                          actor.personal or personal, known=True)
        words = subject.split()
        first = words[0].lower() if words else ""
        if first in _PRONOUNS:
            return self._pronoun(first, subject, how, personal)
        if first in _FIRST_PERSON:
            return None
        name = _TITLES.sub("", subject.strip())
        if _is_name(name.split()):
            return self._person(name, subject, how)
        if len(words) == 1 and words[0][0].isupper():
            surname = self._surname(words[0])
            if surname:
                return Holder(surname.actor, subject, surname.organization, how, True, surname.known)
        anaphor = self._anaphor(subject, personal)
        if anaphor:
            return Holder(anaphor.actor, subject, anaphor.organization, how, personal, anaphor.known)
        runs = [run for run in _NAME.findall(_DETERMINERS.sub("", subject)) if _is_name(run.split())]
        if runs:
            return self._person(_TITLES.sub("", runs[-1]), subject, how)
        cleaned = _clean_unknown(subject)
        if not cleaned or len(cleaned.split()) > MAX_UNKNOWN_WORDS:
            return None
        return Holder(cleaned, subject.strip(), "", how, personal)

    def _pronoun(self, pronoun: str, subject: str, how: str, personal: bool) -> Holder | None:
        want = _PRONOUNS[pronoun]
        if pronoun in ("its", "their") and len(subject.split()) > 1:
            personal = True if _ROLE_WORDS & {w.lower() for w in subject.split()} else personal
        for earlier in reversed(self.memory.holders):
            if earlier.how == "article voice":
                continue
            if want == "person" and not earlier.personal:
                continue
            if want == "thing" and earlier.personal and not earlier.known:
                continue
            return Holder(earlier.actor, subject.strip(), earlier.organization, how,
                          personal or (want == "person"), earlier.known)
        return None

    def _person(self, name: str, subject: str, how: str) -> Holder:
        surname = self._surname(name.split()[-1])
        if surname and surname.actor.endswith(name):
            return Holder(surname.actor, subject.strip(), surname.organization, how, True, surname.known)
        return Holder(name, subject.strip(), "", how, True)

    def _surname(self, word: str) -> Holder | None:
        word = word.lower()
        for earlier in reversed(self.memory.holders):
            last = earlier.actor.split()[-1].lower() if earlier.actor else ""
            if earlier.personal and not earlier.known and (last == word or last == f"al-{word}"
                                                            or word == f"al-{last}"):
                return earlier
        return None

    def _anaphor(self, subject: str, personal: bool) -> Holder | None:
        """'the coalition', 'the group's leader', 'officials at the League', 'the statement', 'the
        presidency': an actor named before. The head noun decides ('a majority of Turkish voters' is not
        Turkey); a head that only says who speaks ('leader', 'officials') lets the rest of the phrase
        decide."""
        words = [re.sub(r"['’]s$", "", w.strip(",.")).lower() for w in subject.split()]
        words = [w for w in words if w not in ("the", "a", "an")]
        if not words:
            return None
        head = [re.sub(r"['’]s$", "", w).lower() for w in _TAIL.sub("", subject).split()][-1]
        heads = {head} if head not in _GENERIC else set(words) - _GENERIC
        voiced = [h for h in self.memory.holders if h.how != "article voice"]
        if head == "statement" and voiced:
            return voiced[-1]
        for earlier in reversed(voiced + self.memory.named):
            names = set(earlier.actor.lower().split())
            actor = self.dictionary.actors.get(earlier.actor)
            kind = actor.kind.lower() if actor else ""
            if heads & (names | set(kind.split())) or (heads & _INSTITUTIONS and kind == "government"):
                return earlier
        return None


def find_holders(sentences: list[str], source: str, dictionary: Dictionary) -> list[Holder]:
    """One holder per sentence of an article, in order (context: pronouns, continued quotes)."""
    memory = _Memory()
    resolver = _Resolver(dictionary, memory)
    voice = Holder(source or "unknown source", "", source or "", "article voice")
    holders = []
    quote_speaker: Holder | None = None
    quote_open = False
    for sentence in sentences:
        masked, still_open = _mask_quotes(sentence, quote_open)
        holder = _holder(masked, resolver)
        starts_quoted = sentence.lstrip()[:1] in _OPENING
        if holder is None and quote_speaker is not None and (quote_open or starts_quoted):
            holder = Holder(quote_speaker.actor, quote_speaker.written, quote_speaker.organization,
                            "continued quote", quote_speaker.personal, quote_speaker.known)
        holder = holder or voice
        has_quote = any(q in sentence for q in _QUOTES)
        quote_speaker = holder if holder is not voice and has_quote else None
        quote_open = still_open and quote_speaker is not None
        holders.append(holder)
        memory.holders.append(holder)
        memory.named.extend(Holder(m.actor.name, m.written, m.actor.organization, "mention", m.actor.personal,
                                   True) for m in dictionary.find(sentence))
    return holders


def _holder(masked: str, resolver: _Resolver) -> Holder | None:
    chosen = _choose(_clauses(masked))
    if chosen is None:
        return None
    clause, reporting = chosen
    pronoun = clause.subject.split()[0].lower() in ("he", "she", "it", "they", "i", "we")
    if reporting is not None and pronoun:  # "X said it would ...": the pronoun is X
        clause = reporting
    holder = resolver.resolve(clause.subject, clause.how)
    if holder is None and reporting is not None and clause is not reporting:
        holder = resolver.resolve(reporting.subject, reporting.how)
    if holder is not None and not holder.known and holder.personal and holder.actor == _clean_unknown(
            clause.subject) and (
            intro := resolver.dictionary.find(masked[:clause.start])):
        # "Speaking for the Syrian government, the information minister said": the role speaks for it
        actor = intro[-1].actor
        holder = Holder(actor.name, holder.written, actor.organization, holder.how, True, True)
    if holder is not None and not holder.organization and (
            employer := resolver.dictionary.find(clause.apposition)):
        # "Tarik Bozkurt, a deputy director at the Turkish Foreign Ministry, said": his organization
        holder = replace(holder, organization=employer[0].actor.organization)
    return holder
