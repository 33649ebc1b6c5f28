"""Template filters of the dashboard: `{% load common %}`, then `{{ proxy.total_used|human_bytes }}`.

The filters format in the template what the views hand over as raw figures, so a page and its
tooltips (`title="... bytes"`) show the same number two ways without the view building both.
"""

from django import template

from common import formatting

register = template.Library()


@register.filter
def human_bytes(value: int | str | None) -> str:
    """Bytes in decimal units (`1.25 GB`), as `common.formatting.human_bytes`.

    Like Django's own filters it never raises while a page renders: a value that is not a number
    of bytes (None, a boolean, text that is no integer, infinity) shows as nothing.
    """
    if value is None or isinstance(value, bool):
        return ""
    try:
        amount = int(value)
    except (TypeError, ValueError, ArithmeticError):
        return ""
    return formatting.human_bytes(amount)
