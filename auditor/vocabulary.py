"""The field's vocabulary: who can own an action, and the verbs plans are written with.

Lists, not a trained tagger: the default pipeline has no downloaded model, and the words of
children's social care plans are a small, stable set. Every pattern is case-insensitive unless
it says otherwise.
"""

from __future__ import annotations

import re

from auditor.casefold import ci


def alternation(words: list[str]) -> str:
    """A regex alternation, longest first so 'social worker' wins over 'social'."""
    return "|".join(sorted(words, key=len, reverse=True))


ROLES = [
    r"(?:allocated\s+|student\s+|supervising\s+|senior\s+|the\s+child'?s\s+)?social\s+workers?", r"sws?", r"ssw",
    r"team\s+managers?", r"tms?", r"practice\s+managers?", r"service\s+managers?", r"senior\s+practitioners?",
    r"assistant\s+team\s+managers?", r"atm", r"managers?",
    r"family\s+support\s+workers?", r"fsws?", r"family\s+practitioners?", r"family\s+workers?", r"support\s+workers?",
    r"early\s+help\s+(?:workers?|practitioners?|co-?ordinators?|team)", r"eh\s+(?:worker|practitioner)", r"ehw",
    r"key\s*workers?", r"lead\s+professionals?", r"personal\s+advis[eo]rs?", r"pas?",
    r"iros?", r"independent\s+reviewing\s+officers?", r"(?:conference\s+)?chairs?",
    r"health\s+visitors?", r"hvs?", r"school\s+nurses?", r"midwi(?:fe|ves)", r"gps?", r"paediatricians?", r"doctors?",
    r"ot", r"occupational\s+therapists?", r"camhs(?:\s+(?:workers?|practitioners?|clinicians?|therapists?))?", r"therapists?", r"psychologists?", r"counsell?ors?",
    r"schools?", r"nursery", r"college", r"dsls?", r"designated\s+safeguarding\s+leads?", r"designated\s+teachers?",
    r"head\s*teachers?", r"heads?\s+of\s+year", r"class\s+teachers?", r"teachers?", r"teaching\s+assistants?", r"sencos?",
    r"virtual\s+school(?:\s+head(?:teacher)?)?", r"vsh", r"education\s+welfare\s+officers?", r"ewo",
    r"police", r"pcs?", r"officers?", r"probation(?:\s+officers?)?", r"housing(?:\s+officers?)?",
    r"yot(?:\s+workers?)?", r"youth\s+(?:offending|justice)\s+(?:team|service|workers?)", r"yjs",
    r"substance\s+misuse\s+(?:workers?|service)", r"drug\s+and\s+alcohol\s+(?:workers?|service)", r"(?:the\s+)?recovery\s+service",
    r"women'?s\s+aid", r"idvas?", r"domestic\s+abuse\s+(?:workers?|service|practitioners?)",
    r"foster\s+carers?", r"(?:kinship|connected|sgo|residential)\s+carers?", r"carers?",
    r"residential\s+(?:staff|workers?|key\s*workers?|home)", r"placement(?:\s+provider)?", r"care\s+home\s+staff", r"staff",
    r"advocates?", r"interpreters?", r"legal(?:\s+team)?", r"(?:the\s+)?local\s+authority", r"la", r"csc",
    r"children'?s\s+social\s+care", r"mash", r"cate(?:\s+workers?)?", r"core\s+group(?:\s+members)?",
    r"(?:all\s+)?professionals", r"(?:the\s+)?professional\s+network", r"(?:all\s+)?agencies", r"(?:the\s+)?network",
    r"mentors?", r"tutors?", r"job\s*coach", r"work\s+coach", r"dwp", r"leaving\s+care\s+team", r"pa\s+team",
    r"(?:allocated|kinship|hospital|duty)\s+sws?", r"cpns?", r"yos", r"dts?", r"vs", r"tas?", r"send(?:\s+team)?", r"lc\s+team", r"solicitors?",
    r"(?:the\s+)?home\s+office", r"ho", r"hos", r"adm",
]  # fmt: skip

FAMILY = [
    r"mum", r"mummy", r"mother", r"dad", r"daddy", r"father", r"step-?(?:mum|dad|mother|father)",
    r"(?:mum'?s|dad'?s|mother'?s|father'?s)\s+(?:new\s+)?partner", r"partner", r"parents?", r"both\s+parents",
    r"nan", r"nana", r"nanny", r"grandma", r"grandmother", r"grandad", r"grandfather", r"grandparents?",
    r"maternal\s+\w+", r"paternal\s+\w+", r"aunt(?:ie|y)?", r"uncle", r"siblings?", r"brother", r"sister",
    r"(?:the\s+)?family", r"(?:the\s+)?household", r"friends?",
]  # fmt: skip

CHILDREN = [
    r"child\s+[A-Z]\b", r"young\s+person\s+[A-Z]\b", r"baby\s+[A-Z]\b", r"sibling\s+[A-Z]\b",
    r"(?:the\s+)?(?:child|children|young\s+person|young\s+people|baby|unborn(?:\s+baby)?|yp|cyp|pupil|student)",
]  # fmt: skip

# Anonymised placeholders left by exports and redaction tools.
PLACEHOLDERS = [
    r"\[\s*(?:name|child|mother|father|mum|dad|redacted|[A-Z ]{1,20})\s*\]",
    r"x{2,}",
    r"\*{3,}",
    r"<\s*name\s*>",
    r"\{\s*name\s*\}",
]

PRONOUNS = [r"i", r"we", r"he", r"she", r"they", r"you"]

_ROLE_ALT = alternation(ROLES + FAMILY)
CHILD_MENTION = ci(
    rf"^(?:(?:the|her|his|their|my)\s+)?(?:{alternation(CHILDREN)}|{alternation(PLACEHOLDERS)}|i)$", re.IGNORECASE
)
_CHILD_ALT = alternation(CHILDREN)
_PLACEHOLDER_ALT = alternation(PLACEHOLDERS)

# One owner mention: a role, relative, child or placeholder, optionally possessive-qualified.
OWNER = (
    rf"(?:(?:the|her|his|their|my|our|mum'?s|dad'?s|child\s+[A-Z]'?s)\s+)?(?:{_CHILD_ALT}|{_PLACEHOLDER_ALT}|{_ROLE_ALT})"
    r"(?:\s*\((?:[^()\n]{1,30})\))?"
)
OWNER_LIST = rf"{OWNER}(?:\s*(?:,|/|&|\+|\band\b|\bor\b|\bwith\b)\s*{OWNER})*"
OWNER_OR_PRONOUN = rf"(?:{OWNER_LIST}|\b(?:{alternation(PRONOUNS)})\b)"

# Words that may stand between an owner and its modal: "Mum and Dad together to", "SW will continue to".
OWNER_ADVERBS = r"(?:(?:also|will|both|all|each|then|now|not|jointly|together|continue\s+to)\s+)?"

# Words that make what follows the owner's task: "Mum to", "SW will", "I am going to".
MODAL = (
    r"(?:will|'ll|shall|should|must|to|is\s+to|are\s+to|needs?\s+to|has\s+agreed\s+to|have\s+agreed\s+to|agreed\s+to|agrees\s+to|"
    r"has\s+to|have\s+to|is\s+going\s+to|are\s+going\s+to|am\s+going\s+to|can|is\s+responsible\s+for|are\s+responsible\s+for|"
    r"has\s+been\s+asked\s+to|have\s+been\s+asked\s+to|is\s+expected\s+to|are\s+expected\s+to|commits?\s+to|undertakes?\s+to|"
    r"(?:will|to)\s+continue\s+to)"
    # "Mum will be offered": the subject of a passive receives the action; it does not own it.
    r"(?!\s+be\s+(?:\w+ly\s+)?(?:\w+ed|\w+en|made|done|held|seen|sent|kept|given|taken|offered|told|met)\b)"
)

# Base forms of the verbs plans are written with. A line that starts with one is a bare imperative.
ACTION_VERBS = frozenset(
    [
        "accompany",
        "access",
        "achieve",
        "act",
        "address",
        "advise",
        "advocate",
        "agree",
        "allow",
        "apply",
        "arrange",
        "ask",
        "assess",
        "attend",
        "avoid",
        "be",
        "book",
        "bring",
        "build",
        "buy",
        "call",
        "carry",
        "challenge",
        "change",
        "chase",
        "check",
        "clean",
        "clear",
        "collect",
        "complete",
        "comply",
        "consider",
        "consult",
        "contact",
        "continue",
        "contribute",
        "convene",
        "co-ordinate",
        "coordinate",
        "create",
        "deliver",
        "demonstrate",
        "develop",
        "discuss",
        "do",
        "drop",
        "email",
        "encourage",
        "engage",
        "enrol",
        "ensure",
        "establish",
        "evidence",
        "explain",
        "explore",
        "facilitate",
        "feed",
        "find",
        "follow",
        "gather",
        "get",
        "give",
        "go",
        "help",
        "hold",
        "identify",
        "implement",
        "improve",
        "increase",
        "inform",
        "install",
        "invite",
        "keep",
        "learn",
        "liaise",
        "limit",
        "link",
        "listen",
        "look",
        "maintain",
        "make",
        "manage",
        "meet",
        "monitor",
        "move",
        "notify",
        "obtain",
        "offer",
        "organise",
        "participate",
        "pay",
        "pick",
        "plan",
        "prepare",
        "prevent",
        "prioritise",
        "promote",
        "protect",
        "provide",
        "pursue",
        "put",
        "raise",
        "read",
        "receive",
        "record",
        "reduce",
        "refer",
        "register",
        "reinforce",
        "remain",
        "remind",
        "remove",
        "repair",
        "report",
        "request",
        "research",
        "respond",
        "return",
        "review",
        "ring",
        "see",
        "seek",
        "send",
        "set",
        "share",
        "show",
        "sign",
        "speak",
        "start",
        "stay",
        "stop",
        "submit",
        "supervise",
        "support",
        "sustain",
        "take",
        "talk",
        "teach",
        "tell",
        "test",
        "text",
        "think",
        "tidy",
        "track",
        "try",
        "undertake",
        "understand",
        "update",
        "use",
        "visit",
        "wake",
        "walk",
        "work",
        "write",
    ]
)

_FIRST_WORD = ci(r"^[^A-Za-z]*(?P<word>[A-Za-z][A-Za-z-]*)")
# "Support for Mum", "Plan sent by post", "Contact with Dad to continue": the first word is a noun.
_NOUN_USE = ci(
    r"\s*:|\s+(?:for|of|from|will|is|are|was|were|has|have|plan|worker|workers|group|groups|session|sessions|needs|meeting|package|arrangements?|\w+ed\b|sent|made|done|held|seen|given|taken)\b",
    re.IGNORECASE,
)
_OFTEN_NOUNS = frozenset(
    {
        "contact",
        "support",
        "review",
        "visit",
        "help",
        "access",
        "work",
        "return",
        "move",
        "record",
        "report",
        "test",
        "plan",
    }
)
_NOUN_OBJECT = ci(
    r"\s+(?:with|between|to\s+(?:continue|remain|be|take|happen|start|resume|increase|reduce|end))\b", re.IGNORECASE
)


def imperative_verb(text: str, start: int = 0) -> re.Match[str] | None:
    """The first word of text[start:] if it is a bare instruction ("Attend all appointments").

    `text` is case-folded (auditor.casefold.fold). Shared by the action finder, the owner finder
    and the heading test, so "Support plan" is a noun phrase to all three.
    """
    match = _FIRST_WORD.match(text, start)
    if match is None:
        return None
    word = match["word"].lower()
    if word not in ACTION_VERBS or _NOUN_USE.match(text, match.end("word")):
        return None
    if word in _OFTEN_NOUNS and _NOUN_OBJECT.match(text, match.end("word")):
        return None
    return match


# Finite forms that make a line a statement of fact, not a task: "Mum is struggling", "He said".
STATEMENT = ci(
    r"\b(?:is|are|was|were|has|have|had|did|does|said|says|told|reported|reports|feels|felt|lives|lived|"
    r"attends|attended|remains|remained|appears|appeared|seems|seemed|presented|disclosed|stated|shared|"
    r"explained|became|continues|continued|wants|wanted|likes|liked|enjoys|enjoyed|loves|needs|worries|"
    r"scored|scores|got|went|came|made|showed|shows|requested|am|want|think|hope|like)\b",
    re.IGNORECASE,
)

PAST_PARTICIPLES_IRREGULAR = (
    "made done held seen sent kept set put paid met taught told given taken undertaken written brought sought "
    "found built shown known run begun drawn read spent lent left bought thought understood chosen driven"
)

# Any named worker, team, service or project ("young carers worker", "perinatal mental health
# team"), recognised only where an action starts: tried everywhere, it slowed the audit by a few
# per cent (measured with `auditor bench`).
NAMED_SERVICE = (
    r"(?:(?:the|a|an|my|her|his|their)\s+)?(?:(?!(?:to|for|with|by|of|re|and|from|at|in|on)\s)[a-z&-]+\s+){1,3}"
    r"(?:workers?|team|service|project|nurses?|officers?|practitioners?|co-?ordinators?|advis[eo]rs?|clinicians?|consultants?)"
)
OWNER_AT_START = rf"(?:{OWNER_LIST}|{NAMED_SERVICE})"
