from django import forms
from django.conf import settings

from apps.catalog.models import AIModel
from apps.lab.models import OutputHint
from apps.lab.selectors import lab_models

MIN_MODELS = 2
MAX_MODELS = 4


class PromptField(forms.CharField):
    def to_python(self, value):
        # Browsers submit line breaks as CRLF but count them as one character for maxlength;
        # normalise first so the visible limit and ours agree.
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if value else value


class ModelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class LabForm(forms.Form):
    models = ModelChoiceField(
        queryset=AIModel.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": f"Choose {MIN_MODELS} to {MAX_MODELS} models.",
            "invalid_choice": "One of the chosen models is not available in the Lab.",
            "invalid_pk_value": "One of the chosen models is not available in the Lab.",
        },
    )
    output_type = forms.ChoiceField(
        label="Output hint",
        choices=OutputHint.choices,
        initial=OutputHint.TEXT,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the listed output hints."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Evaluated per form: the operator's key settings may change while the site runs.
        self.fields["models"].queryset = lab_models()
        limit = settings.LAB_MAX_PROMPT_CHARS
        self.fields["prompt"] = PromptField(
            max_length=limit,
            strip=True,
            widget=forms.Textarea(attrs={"rows": 8, "aria-describedby": "prompt-help"}),
            error_messages={
                "required": "Write a prompt for the models to answer.",
                "max_length": "The prompt is too long: it has %(show_value)d characters and "
                "the Lab takes at most %(limit_value)d.",
            },
        )
        self.order_fields(["prompt", "models", "output_type"])

    def clean_output_type(self):
        return self.cleaned_data["output_type"] or OutputHint.TEXT

    def clean_models(self):
        chosen = list(self.cleaned_data["models"])
        if not MIN_MODELS <= len(chosen) <= MAX_MODELS:
            raise forms.ValidationError(
                f"Choose {MIN_MODELS} to {MAX_MODELS} models (you chose {len(chosen)})."
            )
        return chosen
