"""Remembered texts (kauko.i18n) behave as the strings they are wherever a string goes."""

import copy
import pickle

from django.utils import translation

from kauko.i18n import gettext, i18n_render, i18n_spec


def test_a_remembered_text_survives_copy_deepcopy_and_pickle():
    with translation.override("fi"):
        text = gettext("Created by %(who)s.") % {"who": "Riikka"}
    for twin in (copy.copy(text), copy.deepcopy(text), pickle.loads(pickle.dumps(text))):
        assert twin == text == "Luonut Riikka."
        assert i18n_spec(twin) == {"msgid": "Created by %(who)s.", "params": {"who": "Riikka"}}


def test_a_remembered_text_renders_in_the_readers_language():
    with translation.override("en"):
        spec = i18n_spec(gettext("Created by %(who)s.") % {"who": "Riikka"})
    with translation.override("sv"):
        assert i18n_render(spec, "fallback") != "Created by Riikka."
    assert i18n_render({"msgid": "Created by %(who)s.", "params": {}}, "fallback") == "fallback"
    assert i18n_render(None, "as written") == "as written"
