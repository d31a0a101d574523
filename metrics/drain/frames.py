"""Split a Logplex body (application/logplex-1) into its syslog messages.

Logplex frames each RFC 5424 message with RFC 6587 octet counting: ``<length> <message>``,
one message a line. The length counts the message's bytes, with or without its newline
depending on the sender, so both are accepted. A line whose length does not match, or that
does not start with a length, is malformed: it is counted and skipped, and the next line is
read on its own, so one broken frame never costs the rest of the batch.
"""


def split_frames(body: bytes) -> tuple[list[bytes], int]:
    """Return the well-formed messages of ``body`` (without their length) and the number of
    malformed frames."""
    messages = []
    malformed = 0
    for line in body.split(b"\n"):
        if not line or line.isspace():
            continue
        space = line.find(b" ", 0, 12)
        if space <= 0 or not line[:space].isdigit():
            malformed += 1
            continue
        length = int(line[:space])
        message = line[space + 1 :].rstrip(b"\r")
        if length not in (len(message), len(message) + 1) or message[:1] != b"<":
            malformed += 1
            continue
        messages.append(message)
    return messages, malformed


def frame(message: str, count_newline: bool = True) -> bytes:
    """Octet-count one message as Logplex does (its documented example counts the newline)."""
    data = message.encode()
    return b"%d %s\n" % (len(data) + (1 if count_newline else 0), data)
