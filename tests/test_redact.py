"""mask_secrets: pasted passwords are masked, ordinary sentences are left alone."""

from __future__ import annotations

import pytest

from service.redact import mask_secrets

MASKED = [
    ("my password is hunter2", "my password is ********"),
    ("My password is hunter2, what now?", "My password is ********, what now?"),
    ("pass: x", "pass: ********"),
    ("pwd=x", "pwd=********"),
    ("password: x", "password: ********"),
    ("PW x", "PW ********"),
    ("the pw is 12345.", "the pw is ********."),
    ("Password:Tr0ub4dor&3 please help", "Password:******** please help"),
    ("my password is: Summer2024! and user bob", "my password is: ******** and user bob"),
    ("password Hunter2 does not work", "password ******** does not work"),
    ('password is "correct horse battery"', "password is ********"),
    (
        "password for jo@bakery-hove.co.uk is sunshine",
        "password for jo@bakery-hove.co.uk is ********",
    ),
    ("the password for the account is sunshine", "the password for the account is ********"),
    ("mein Passwort ist Geheim123", "mein Passwort ist ********"),
    ("Kennwort: abc", "Kennwort: ********"),
    ("mi contraseña es gato77", "mi contraseña es ********"),
    ("contraseña: abc", "contraseña: ********"),
    ("mot de passe : azerty", "mot de passe : ********"),
    ("senha é abc123", "senha é ********"),
    ("wachtwoord is kaas99", "wachtwoord is ********"),
    ("passwd = wrong", "passwd = ********"),
    ("AUTH PLAIN AGpvAGh1bnRlcjI=", "AUTH PLAIN ********"),
    ("smtp://jo:s3cret@mail.example.com:587", "smtp://jo:********@mail.example.com:587"),
    (
        "Outlook says 550 relay not permitted.\npassword: x\nThanks, Jo",
        "Outlook says 550 relay not permitted.\npassword: ********\nThanks, Jo",
    ),
]

UNCHANGED = [
    "I forgot my password",
    "I forgot my password.",
    "my password is wrong",
    "the password is not accepted",
    "My password is definitely correct",
    "password reset link does not arrive",
    "password-protected zip file bounced",
    "I can't pass SPF checks",
    "please pass the message on",
    "PWA app on my phone",
    "I reset my password for the account yesterday",
    "550 5.7.1 Relay access denied",
    "password: ********",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masks_pasted_passwords(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert mask_secrets(text) == text


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masking_is_idempotent(text: str, expected: str) -> None:
    assert mask_secrets(expected) == expected


@pytest.mark.parametrize(
    "keyword",
    [
        "password",
        "passwd",
        "passcode",
        "passphrase",
        "pwd",
        "pw",
        "passwort",
        "kennwort",
        "contraseña",
        "contrasena",
        "clave",
        "mot de passe",
        "mdp",
        "wachtwoord",
        "senha",
        "hasło",
        "haslo",
        "pass",
    ],
)
def test_every_keyword_is_masked_in_any_case(keyword: str) -> None:
    # The cheap substring check in front of the patterns must not skip any keyword.
    for written in (keyword, keyword.upper(), keyword.title()):
        assert mask_secrets(f"{written}: Tr0ub4dor") == f"{written}: ********"
