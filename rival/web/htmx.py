def partial_or_page(request, template: str, partial: str) -> str:
    """htmx swaps only the named partial; a history restore or a plain visit gets the page."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#{partial}"
    return template
