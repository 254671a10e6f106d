"""Forms both sides' staff actions build on: the hidden version every action posts (so a
colleague's change in between is noticed), and the plain note."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ill.workflow import assignees, staff_label
from kauko.models import StaffUser

DATE = forms.DateInput(attrs={"type": "date"})


class ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, request_obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_obj = request_obj

    @property
    def needs_input(self) -> bool:
        """Whether staff must fill something in (then the fields open first); an action
        whose fields are all optional is one click, its fields beside the button."""
        return any(field.field.required for field in self.visible_fields())


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class AssignForm(ActionForm):
    assignee = forms.ModelChoiceField(label=_("Give it to"), queryset=None, required=False,
                                      empty_label=_("nobody"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.request_obj
        self.fields["assignee"].queryset = (
            assignees(institution_id=obj.institution_id, model=type(obj)) if obj is not None
            else StaffUser.objects.none())
        self.fields["assignee"].label_from_instance = staff_label


class DismissForm(ActionForm):
    reason = forms.CharField(label=_("Why the flag can go"), max_length=300)


class OrderedChoices(forms.SelectMultiple):
    """Choose several in an order: one drop-down per place ("1.", "2.", …), all with the
    field's name, so the browser posts the values in the order staff chose them (a plain
    multi-select posts them in the list's order, whatever was clicked first)."""

    def __init__(self, *args, places: int = 6, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = places

    def render(self, name, value, attrs=None, renderer=None):
        chosen = [str(v) for v in (value or []) if v not in ("", None)]
        choices = [(str(k), label) for k, label in self.choices if str(k) != ""]
        places = max(self.places, len(chosen) + 1)
        base_id = (attrs or {}).get("id") or self.attrs.get("id") or name
        rows = []
        for i in range(places):
            current = chosen[i] if i < len(chosen) else ""
            options = format_html('<option value="">{}</option>', "—") + format_html_join(
                "", '<option value="{}"{}>{}</option>',
                ((k, " selected" if k == current else "", label) for k, label in choices))
            rows.append(format_html(
                '<li><label for="{id}-{i}">{n}.</label> '
                '<select name="{name}" id="{id}-{i}">{options}</select></li>',
                id=base_id, i=i, n=i + 1, name=name, options=options))
        return format_html('<ol class="ordered-choices" id="{}">{}</ol>', base_id,
                           format_html_join("", "{}", ((r,) for r in rows)))

    def value_from_datadict(self, data, files, name):
        # Empty places are skipped; a partner chosen twice counts once, at its first place.
        seen, values = set(), []
        for value in data.getlist(name) if hasattr(data, "getlist") else data.get(name, []):
            if value and value not in seen:
                seen.add(value)
                values.append(value)
        return values


def ordered(form, name: str, objects) -> list:
    """`objects` (a field's cleaned choices) in the order the form posted them."""
    by_pk = {obj.pk: obj for obj in objects or []}
    posted = form.fields[name].widget.value_from_datadict(form.data, form.files,
                                                          form.add_prefix(name))
    return [by_pk[int(pk)] for pk in posted if str(pk).isdigit() and int(pk) in by_pk]
