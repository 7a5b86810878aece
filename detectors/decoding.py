"""Decoding and normalising one attacker-controlled value the way a WAF does first (docs/decisions/0028):
percent-decoding (with ``%uXXXX`` and overlong UTF-8), HTML entities, ``\\xHH`` / ``\\uHHHH`` escapes, NUL and
control characters, whitespace, case; a SQL form without comments, a shell form without evasions, and
libinjection's verdicts. ``evidence.py`` applies it to the fields of an event."""

from __future__ import annotations

import binascii
import html
import re
import unicodedata
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

import libinjection
from canhgac.core.limits import MAX_EVALUATED_CHARS

#: Decoding rounds (percent, entities, escapes) before a value is taken as it is.
MAX_ROUNDS = 5
CACHE_LIMIT = 16384

_PERCENT = re.compile(r"(?:%[0-9a-fA-F]{2})+|%[uU][0-9a-fA-F]{4}")
_ESCAPE = re.compile(r"\\(?:[xX]([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4}))")
#: A word, number or code (dossier numbers, page sizes, slugs): nothing to decode, no SQL, shell or markup.
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHELL_SPECIAL = re.compile(r"['\"\\^$;&|\x60{\n\r]")
#: Text of words, numbers, spaces and commas: libinjection can only call it SQL when SQL keywords occur.
_WORDS_ONLY = re.compile(r"[\w\s.,]*")
_SQL_WORDS = frozenset((
    "select", "union", "insert", "update", "delete", "drop", "create", "alter", "exec", "execute", "declare",
    "waitfor", "sleep", "benchmark", "or", "and", "xor", "not", "div", "mod", "like", "rlike", "regexp", "is", "in",
    "between", "order", "group", "having", "where", "from", "into", "limit", "procedure", "null", "case", "when",
    "then", "else", "end", "table", "values", "set", "begin", "truncate", "shutdown", "top", "distinct", "all",
    "any", "exists", "as", "join", "dual", "true", "false"))
_WORD = re.compile(r"\w+")
_XSS_HINTS = re.compile(r"[<>\"'`=:(]")
_SLASHES = re.compile(r"/{2,}")
_IFS = re.compile(r"\$\{ifs[^}]{0,8}\}|\$ifs(?:\$\d)?")
_EMPTY_PARAMETERS = re.compile(r"\$[@*1-9]")
_BRACES = re.compile(r"\{([^{}\s,]{1,64}(?:,[^{}\s,]{0,64}){1,16})\}")
_SHELL_QUOTES = str.maketrans("", "", "'\"\\^")
#: Whitespace after a command separator or substitution carries no meaning: ``; id`` is ``;id``.
_AFTER_SEPARATOR = ("; ", "& ", "| ", "\x60 ", "$( ")
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")
#: A line break followed by a response header or status line: response splitting, header injection.
_HEADER_INJECTION = re.compile(
    r"[\r\n][ \t]*(?:set-cookie|location|content-(?:type|length|disposition)|refresh|cache-control|"
    r"transfer-encoding|access-control-[a-z-]{1,40}|x-[a-z-]{1,40})[ \t]*:|[\r\n][ \t]*http/\d", re.IGNORECASE)
#: A run of one character this long is an overflow probe, not text.
REPEAT_RUN = 256
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_HEX = re.compile(r"0x((?:[0-9a-fA-F]{2}){8,})")
#: Quotes and primes that best-fit conversions (nvarchar to varchar, full-width forms) turn into ASCII ones.
_ASCII_QUOTES = str.maketrans("‘’‚‛′ʹʼ“”„‟″", "\'" * 7 + '"' * 5)
_TYPOGRAPHIC_QUOTES = re.compile("[‘’‚‛′ʹʼ“”„‟″]")


class Value(NamedTuple):
    """One attacker-controlled value after normalisation."""

    text: str  # decoded, NUL removed, whitespace compressed, lower-cased
    sql: str  # text without SQL comments (MySQL ``/*! ... */`` keep their content), compressed again
    cmd: str  # text without shell quoting tricks ($IFS, quotes, backslashes, carets, {a,b})
    fingerprint: str | None  # libinjection's SQLi fingerprint when it calls the value SQL injection
    xss: bool  # libinjection calls it markup/script injection
    flags: frozenset[str]
    length: int  # of the decoded value
    inner: Value | None = None  # type: ignore[misc]  # what it encodes (base64, a hex literal), when printable


_EMPTY = Value("", "", "", None, False, frozenset(), 0)


# decoding ---------------------------------------------------------------------------------------------
def decode_bytes(data: bytes) -> tuple[str, bool]:
    """UTF-8 with overlong forms read as the character they spell (``%c0%af`` is ``/``) and stray bytes as
    ISO-8859-1 (old forms send ``%F1`` for ñ); also whether an overlong form was seen."""
    try:
        return data.decode(), False
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    overlong = False
    index, size = 0, len(data)
    while index < size:
        lead = data[index]
        if lead < 0x80:
            out.append(chr(lead))
            index += 1
            continue
        tail = data[index + 1:index + 4]
        if lead in (0xC0, 0xC1) and len(tail) >= 1 and 0x80 <= tail[0] < 0xC0:
            out.append(chr(((lead & 0x1F) << 6) | (tail[0] & 0x3F)))
            overlong, index = True, index + 2
            continue
        if lead == 0xE0 and len(tail) >= 2 and 0x80 <= tail[0] < 0xA0 and 0x80 <= tail[1] < 0xC0:
            out.append(chr(((tail[0] & 0x3F) << 6) | (tail[1] & 0x3F)))
            overlong, index = True, index + 3
            continue
        if lead == 0xF0 and len(tail) >= 3 and 0x80 <= tail[0] < 0x90 and all(0x80 <= b < 0xC0 for b in tail[1:3]):
            out.append(chr(((tail[0] & 0x3F) << 12) | ((tail[1] & 0x3F) << 6) | (tail[2] & 0x3F)))
            overlong, index = True, index + 4
            continue
        width = 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF5 else 0
        if width:
            try:
                out.append(data[index:index + width].decode())
                index += width
                continue
            except UnicodeDecodeError:
                pass
        out.append(chr(lead))
        index += 1
    return "".join(out), overlong


def percent_decode(text: str) -> tuple[str, bool]:
    """One round of ``%XX`` (as UTF-8, see ``decode_bytes``) and ``%uXXXX``; also whether a form was overlong."""
    if "%u" not in text and "%U" not in text:
        try:
            return unquote_to_bytes(text).decode(), False  # the usual case: valid UTF-8 escapes
        except UnicodeDecodeError:
            pass
    overlong = False

    def replace(match: re.Match[str]) -> str:
        nonlocal overlong
        run = match.group()
        if run[1] in "uU":
            return chr(int(run[2:], 16))
        decoded, bad = decode_bytes(bytes.fromhex(run.replace("%", "")))
        overlong = overlong or bad
        return decoded

    return _PERCENT.sub(replace, text), overlong


def unescape(text: str) -> str:
    """Backslash escapes of JavaScript and friends: ``\\x3c``, ``\\u003c``, ``\\u{3c}``."""
    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2) or match.group(3), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _ESCAPE.sub(replace, text)


def decode(text: str, *, form: bool) -> tuple[str, set[str]]:
    """Fully decoded text and the flags earned on the way; ``form``: ``+`` is a space (query and body)."""
    flags: set[str] = set()
    if len(text) > MAX_EVALUATED_CHARS:
        text = text[:MAX_EVALUATED_CHARS]
        flags.add("capped")
    if form and "+" in text:
        text = text.replace("+", " ")
    percent_rounds = 0
    for _ in range(MAX_ROUNDS):
        before = text
        if "%" in text:
            text, overlong = percent_decode(text)
            if overlong:
                flags.add("overlong_utf8")
            if text != before:
                percent_rounds += 1
        if "&" in text:
            text = html.unescape(text)
        if "\\" in text:
            text = unescape(text)
        if text == before:
            break
        if len(text) > MAX_EVALUATED_CHARS:
            text = text[:MAX_EVALUATED_CHARS]
            flags.add("capped")
    if percent_rounds > 1:
        flags.add("multiple_encoding")
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)  # full-width and composed forms, as best-fit mappings do
    if ":" in text and any(char in text for char in " \t\n\r\f\v"):
        dense = "".join(text.split()).lower()  # browsers drop tabs and line breaks inside a URL scheme
        if any(scheme in dense for scheme in _SCRIPT_SCHEMES) and not any(
                scheme in text.lower() for scheme in _SCRIPT_SCHEMES):
            flags.add("split_scheme")
    if "\x00" in text:
        flags.add("null_byte")
        text = text.replace("\x00", "")
    if _CONTROL.search(text):
        flags.add("control_chars")
    if ("\n" in text or "\r" in text) and _HEADER_INJECTION.search(text):
        flags.add("header_injection")
    if len(text) >= REPEAT_RUN and _repeats(text):
        flags.add("repeated_chars")
    return text, flags


def _repeats(text: str) -> bool:
    return any(char * REPEAT_RUN in text for char in set(text))


def compress(text: str) -> str:
    return " ".join(text.split())


def strip_sql_comments(text: str) -> str:
    """``/* ... */`` becomes a space (MySQL's executable ``/*!50000 ... */`` keeps its content); an unclosed
    comment runs to the end. ``--`` and ``#`` comments are kept: they are part of what the attack looks like."""
    if "/*" not in text:
        return text
    out: list[str] = []
    position = 0
    while (start := text.find("/*", position)) >= 0:
        out.append(text[position:start])
        end = text.find("*/", start + 2)
        inner = text[start + 2:end if end >= 0 else len(text)]
        if inner.startswith("!"):
            out.append(" " + inner[1:].lstrip("0123456789") + " ")
        else:
            out.append(" ")
        if end < 0:
            return "".join(out)
        position = end + 2
    out.append(text[position:])
    return "".join(out)


def strip_shell_evasions(text: str) -> str:
    """What shells (sh and cmd.exe) remove before running a word: ``$IFS`` / ``${IFS}`` become a space;
    quotes, backslashes, carets, ``$@`` and unset positionals vanish; ``{cat,/etc/passwd}`` expands.
    Line breaks separate commands, so they become ``;``; whitespace is compressed and dropped after a
    separator (``; id`` is ``;id``)."""
    if "$" in text:
        text = _EMPTY_PARAMETERS.sub("", _IFS.sub(" ", text))
    if "{" in text and "," in text:
        text = _BRACES.sub(lambda match: match.group(1).replace(",", " "), text)
    if "\\n" in text or "\\r" in text:  # the escape, not the character: interpreters that unescape run it
        text = text.replace("\\n", "\n").replace("\\r", "\n")
    text = text.translate(_SHELL_QUOTES)
    if "\n" in text or "\r" in text:
        text = text.replace("\r\n", ";").replace("\n", ";").replace("\r", ";")
    text = compress(text)
    for spaced in _AFTER_SEPARATOR:
        if spaced in text:
            text = text.replace(spaced, spaced[:-1])
    return text


def _sqli_fingerprint(decoded: str) -> str | None:
    found = libinjection.is_sql_injection(decoded)
    return found["fingerprint"] if found["is_sqli"] else None


def _verdicts(decoded: str) -> tuple[str | None, bool]:
    """libinjection's verdicts, skipping the calls for text in which its tokenizers can find nothing."""
    words_only = _WORDS_ONLY.fullmatch(decoded) is not None
    keywords = not words_only or not _SQL_WORDS.isdisjoint(_WORD.findall(decoded.lower()))
    fingerprint = _sqli_fingerprint(decoded) if keywords else None
    xss = not words_only and _XSS_HINTS.search(decoded) is not None and libinjection.is_xss(decoded)["is_xss"]
    return fingerprint, xss


_values: dict[tuple[str, bool, bool, bool], Value] = {}


def base64_text(text: str) -> str | None:
    """The text a value encodes when the whole value is base64 (or base64url) of printable UTF-8."""
    if len(text) % 4 or _BASE64.fullmatch(text) is None or text.isdigit():
        return None
    try:
        data = binascii.a2b_base64(text.replace("-", "+").replace("_", "/"))
        decoded = data.decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not decoded or not all(char.isprintable() or char in "\t\n\r" for char in decoded):
        return None
    return decoded


def hex_text(text: str) -> str | None:
    """The text a value's leading hex literal of eight bytes or more encodes (SQL's ``0x…``, as sqlmap --hex and
    ``CAST(0x… AS …)`` send a query), read as ASCII or as SQL Server's UTF-16LE; None if not printable."""
    match = _HEX.match(text) if text[:2] in ("0x", "0X") else None
    if match is None:
        return None
    data = bytes.fromhex(match.group(1))
    if not data[1::2].strip(b"\x00"):  # every second byte zero: UTF-16LE of ASCII text
        data = data[0::2]
    decoded = data.decode("latin-1")
    if not all(char.isprintable() or char in "\t\n\r" for char in decoded) or not decoded.isascii():
        return None
    return decoded


def encoded_text(text: str) -> str | None:
    """What a value encodes as a whole (base64) or in its leading hex literal, for rules to read beside it."""
    return base64_text(text) or hex_text(text)


def normalise(raw: str, *, form: bool = True, verdicts: bool = True, nested: bool = True) -> Value:
    """One attacker-controlled value: decoded, folded, with its SQL and shell forms and libinjection verdicts."""
    key = (raw, form, verdicts, nested)
    found = _values.get(key)
    if found is not None:
        return found
    if not raw:
        return _EMPTY
    if len(raw) <= MAX_EVALUATED_CHARS and _PLAIN.fullmatch(raw) is not None:
        # the fast path: nothing to decode, compress or rewrite, and only a trailing -- can be SQL
        text = raw.lower()
        fingerprint = _sqli_fingerprint(raw) if verdicts and "--" in raw else None
        flags = frozenset(("repeated_chars",)) if len(raw) >= REPEAT_RUN and _repeats(raw) else frozenset()
        inner_text = encoded_text(raw) if nested and len(raw) >= 8 else None
        inner = normalise(inner_text, form=False, verdicts=verdicts, nested=False) if inner_text else None
        found = Value(text, text, text, fingerprint, False, flags, len(raw), inner)
    else:
        found = _normalise(raw, form=form, verdicts=verdicts, nested=nested)
    if len(_values) >= CACHE_LIMIT:
        _values.clear()
    _values[key] = found
    return found


def _normalise(raw: str, *, form: bool, verdicts: bool, nested: bool) -> Value:
    decoded, flags = decode(raw, form=form)
    lowered = decoded.lower()
    text = compress(lowered)
    typographic = not lowered.isascii() and _TYPOGRAPHIC_QUOTES.search(lowered) is not None
    sql = lowered.translate(_ASCII_QUOTES) if typographic else lowered
    sql = compress(strip_sql_comments(sql)) if "/*" in sql or sql != lowered else text
    cmd = strip_shell_evasions(lowered) if _SHELL_SPECIAL.search(lowered) else text
    fingerprint, xss = _verdicts(decoded) if verdicts else (None, False)
    inner_text = encoded_text(decoded) if nested and len(decoded) >= 8 else None
    inner = normalise(inner_text, form=False, verdicts=verdicts, nested=False) if inner_text else None
    return Value(text, sql, cmd, fingerprint, xss, frozenset(flags), len(decoded), inner)


_texts: dict[str, tuple[str, str, frozenset[str]]] = {}


def normalise_text(raw: str) -> tuple[str, str, frozenset[str]]:
    """A path, header or command line (no form decoding, no verdicts): the decoded and folded text, its raw
    decoded form (case kept, for the shell form of command lines) and its flags; cached."""
    found = _texts.get(raw)
    if found is None:
        if len(raw) <= MAX_EVALUATED_CHARS and _PLAIN.fullmatch(raw) is not None:
            found = (raw.lower(), raw, frozenset())
        else:
            decoded, flags = decode(raw, form=False)
            found = (compress(decoded).lower(), decoded, frozenset(flags))
        if len(_texts) >= CACHE_LIMIT:
            _texts.clear()
        _texts[raw] = found
    return found


def normalise_path(raw: str) -> tuple[str, frozenset[str]]:
    """A request path decoded and folded, separators normalised: ``\\`` is ``/``, ``//`` and ``/./`` collapse.
    Parent steps (``..``) are kept: they are the evidence."""
    text, _, flags = normalise_text(raw)
    path = text.replace("\\", "/")
    if "//" in path:
        path = _SLASHES.sub("/", path)
    while "/./" in path:
        path = path.replace("/./", "/")
    if path.endswith("/."):
        path = path[:-1]
    return path, flags


def clear_caches() -> None:
    """Forget the values normalised so far."""
    _values.clear()
    _texts.clear()
