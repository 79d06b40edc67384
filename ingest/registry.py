"""The list of loaders *is* the registry (pySHACL's lesson): adding a source is adding a line here.

Entries name their class by import path and are imported only when used (RDFLib's lazy plug-ins),
so listing the sources costs nothing and one broken loader cannot stop the others from loading.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from normkg.errors import SourceError
from normkg.ingest.base import Loader


@dataclass(frozen=True)
class LoaderEntry:
    name: str
    folder: str
    target: str  # "module:Class"

    def load(self) -> type[Loader]:
        module_name, _, class_name = self.target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        if not (isinstance(cls, type) and issubclass(cls, Loader)) or cls.name != self.name:
            raise SourceError(f"registry entry {self.target} is not the loader of {self.name}")
        return cls


_P = "normkg.ingest.loaders."

LOADERS: tuple[LoaderEntry, ...] = (
    LoaderEntry("normbank", "normbank", _P + "normbank:NormBankLoader"),
    LoaderEntry("social-chem-101", "social-chem-101", _P + "social_chem:SocialChemLoader"),
    LoaderEntry("moral-stories", "moral-stories", _P + "moral_stories:MoralStoriesLoader"),
    LoaderEntry("daily-dilemmas", "daily-dilemmas", _P + "daily_dilemmas:DailyDilemmasLoader"),
    LoaderEntry("scruples", "scruples", _P + "scruples:ScruplesLoader"),
    LoaderEntry("blend", "blend", _P + "blend:BlendLoader"),
    LoaderEntry(
        "moral-foundations-dictionary",
        "moral-foundations-dictionary",
        _P + "moral_foundations:MoralFoundationsLoader",
    ),
    LoaderEntry("cvc", "cvc", _P + "cvc:CvcLoader"),
    LoaderEntry("moral-graph-elicitation", "moral-graph-elicitation", _P + "mge:MgeLoader"),
)


def loader_entry(name: str) -> LoaderEntry:
    for entry in LOADERS:
        if entry.name == name:
            return entry
    raise SourceError(f"unknown source {name!r}", hint="known sources: " + ", ".join(e.name for e in LOADERS))


def loader_class(name: str) -> type[Loader]:
    return loader_entry(name).load()
