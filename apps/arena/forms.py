from django import forms
from django.conf import settings

from apps.lab.forms import PromptField


class LiveBattleForm(forms.Form):
    """A visitor's own prompt for a live battle; as long as the Prompt Lab takes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.LAB_MAX_PROMPT_CHARS
        self.fields["prompt"] = PromptField(
            label="Your prompt",
            max_length=limit,
            strip=True,
            widget=forms.Textarea(
                attrs={"rows": 4, "maxlength": limit, "aria-describedby": "live-prompt-help"}
            ),
            error_messages={
                "required": "Write a prompt for the two models to answer.",
                "max_length": "The prompt is too long: it has %(show_value)d characters and "
                "live battles take at most %(limit_value)d.",
            },
        )
