"""Errors shared by every app."""


class BusinessError(Exception):
    """A domain rule was violated; the message is shown to the user as is."""

    code = "business_error"
    status = 400  # the HTTP status the API answers with

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
