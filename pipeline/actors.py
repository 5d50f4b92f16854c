"""The actor dictionary: canonical actors, the names texts use for them, and the terms of each target.

    from pipeline.actors import load_dictionary
    actors = load_dictionary()                       # pipeline/actors.yaml, shipped with the package
    actors = load_dictionary(["my_actors.yaml"])     # ... extended (or overridden, by name) with your own
    [m.actor.name for m in actors.find("Ankara and the Kremlin welcomed the talks.")]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.files import InputError, read_utf8

SHIPPED = Path(__file__).with_name("actors.yaml")
PERSONAL_KINDS = frozenset({"person", "office"})
_DETERMINER = r"(?:(?i:the|a|an)\s+)?"


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    aliases: list[str] = []
    organization: str = ""
    kind: str = ""
    country: str = ""

    @field_validator("aliases")
    @classmethod
    def _no_empty_alias(cls, aliases: list[str]) -> list[str]:
        if any(not alias.strip() for alias in aliases):
            raise ValueError("an alias is empty")
        return [alias.strip() for alias in aliases]

    @property
    def personal(self) -> bool:
        return self.kind in PERSONAL_KINDS


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1)


class DictionaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actors: list[Actor] = []
    targets: list[Target] = []


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    written: str
    actor: Actor


def _strip_determiner(alias: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", alias, flags=re.I)


def _alias_pattern(alias: str) -> str:
    """Acronyms (HTS, SNA, U.N.) match in capitals only; other aliases in any case ("the Turkish president",
    "Turkey's foreign minister"), with the determiner written before them."""
    core = re.escape(_strip_determiner(alias)).replace(r"\ ", r"\s+")
    acronym = alias.replace(".", "").isupper()
    return core if acronym else f"(?i:{core})"


def _words_pattern(terms: list[str]) -> re.Pattern:
    alternatives = "|".join(f"(?i:{re.escape(term)})" for term in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


class Dictionary:
    def __init__(self, actors: list[Actor], targets: list[Target]):
        self.actors = {actor.name: actor for actor in actors}
        self.targets = targets
        names = {_strip_determiner(alias): actor
                 for actor in actors for alias in [actor.name, *actor.aliases]}
        ordered = sorted(names, key=len, reverse=True)  # the longest name wins: "Turkey's foreign minister"
        self._by_alias = {alias.lower(): names[alias] for alias in ordered}
        alternatives = "|".join(f"(?P<a{i}>{_alias_pattern(alias)})" for i, alias in enumerate(ordered))
        self._aliases = ordered
        self._pattern = re.compile(rf"(?<![\w-]){_DETERMINER}(?:{alternatives})(?![\w-])")
        self._target_patterns = [(target.slug, _words_pattern(target.terms)) for target in targets]

    def find(self, text: str) -> list[Mention]:
        """The actors named in `text`, left to right, each span the longest name that matches there."""
        mentions = []
        for match in self._pattern.finditer(text):
            alias = self._aliases[int(match.lastgroup[1:])]
            actor = self._by_alias[alias.lower()]
            mentions.append(Mention(match.start(), match.end(), match.group(0), actor))
        return mentions

    def target_of(self, text: str) -> str:
        """The target whose terms `text` mentions most; '' when it mentions none."""
        counts = [(len(pattern.findall(text)), -order, slug)
                  for order, (slug, pattern) in enumerate(self._target_patterns)]
        best = max(counts, default=(0, 0, ""))
        return best[2] if best[0] else ""


def _read(path: Path) -> DictionaryFile:
    try:
        raw = yaml.safe_load(read_utf8(path))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise InputError(f"{path}: {where}not valid YAML ({getattr(err, 'problem', err)})") from None
    try:
        return DictionaryFile.model_validate(raw or {})
    except ValidationError as err:
        first = err.errors()[0]
        place = _place(raw, first["loc"])
        raise InputError(f"{path}: {place}: {first['msg']}") from None


def _place(raw, location: tuple) -> str:
    """'actor 3 (Turkish Government), field aliases' from pydantic's location ('actors', 2, 'aliases')."""
    if len(location) >= 2 and location[0] in ("actors", "targets") and isinstance(location[1], int):
        entry = raw[location[0]][location[1]]
        label = entry.get("name") or entry.get("slug") if isinstance(entry, dict) else None
        place = f"{location[0][:-1]} {location[1] + 1}" + (f" ({label})" if label else "")
        return place + (f", field '{location[2]}'" if len(location) > 2 else "")
    return "field " + ".".join(str(part) for part in location)


def load_dictionary(extra: list[str | Path] | None = None) -> Dictionary:
    """The shipped dictionary, then each file of `extra`: an actor or target with a name already loaded
    replaces it, a new one is added. An alias claimed by two actors is an error naming both."""
    actors: dict[str, Actor] = {}
    targets: dict[str, Target] = {}
    origin: dict[str, Path] = {}
    for path in [SHIPPED, *map(Path, extra or [])]:
        loaded = _read(path)
        for actor in loaded.actors:
            actors[actor.name] = actor
            origin[actor.name] = path
        targets.update({target.slug: target for target in loaded.targets})
    claimed: dict[str, str] = {}
    for actor in actors.values():
        for alias in {_strip_determiner(a).lower() for a in [actor.name, *actor.aliases]}:
            other = claimed.setdefault(alias, actor.name)
            if other != actor.name:
                raise InputError(f"{origin[actor.name]}: actor '{actor.name}': the name '{alias}' is also "
                                 f"used by '{other}' ({origin[other]}); give each name to one actor")
    return Dictionary(list(actors.values()), list(targets.values()))
