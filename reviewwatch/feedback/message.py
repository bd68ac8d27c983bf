"""A feedback request as an email: plain text and HTML in the customer's language, one link.

Headers come from cleaned values only (`reviewwatch.digest.headers`); `List-Unsubscribe` with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) opts the customer out of this
business's requests. The same Message-ID and Date go out on every attempt.
"""

from __future__ import annotations

import datetime as dt
import functools
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reviewwatch.digest.compose import POLICY
from reviewwatch.digest.headers import clean_address, clean_header, from_header
from reviewwatch.feedback.i18n import words

TEMPLATES = Path(__file__).parent / "templates"
# Mail clients read List-Unsubscribe's <URL> literally: a folded or encoded-word value is lost,
# so lines may be as long as RFC 5322 allows (998) rather than folded at 78.
REQUEST_POLICY = POLICY.clone(max_line_length=998)


def feedback_link(public_url: str, token: str) -> str:
    return f"{public_url}/f/{token}"


def opt_out_link(public_url: str, token: str) -> str:
    return f"{public_url}/feedback/opt-out/{token}"


def request_message(
    *,
    business_name: str,
    customer_name: str,
    language: str,
    recipient: str,
    sender: str,
    message_id: str,
    date: dt.datetime,
    link: str,
    opt_out: str,
) -> EmailMessage:
    name = clean_header(customer_name, 100)
    business = clean_header(business_name, 100)
    w = words(language, business, name)
    values = {"w": w, "name": name, "link": link, "opt_out": opt_out, "language": language,
              "subject": w["subject"]}
    env = _environment()
    message = EmailMessage(policy=REQUEST_POLICY)
    message["Subject"] = clean_header(w["subject"], 300)
    message["From"] = from_header(business, sender)
    message["To"] = clean_address(recipient)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = clean_header(message_id, 250)
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{opt_out}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        env.get_template("request.txt.j2").render(values), subtype="plain", charset="utf-8"
    )
    message.add_alternative(
        env.get_template("request.html.j2").render(values), subtype="html", charset="utf-8"
    )
    return message


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
