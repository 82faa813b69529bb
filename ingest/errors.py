"""The small exception family that callers branch on."""


class PartnerQAError(Exception):
    """Base class for every error partnerqa raises on purpose."""


class SkipFile(PartnerQAError):
    """A file that cannot be ingested; the message is the one-line reason."""


class IndexNotFoundError(PartnerQAError):
    """No index exists at the given folder."""


class IndexMismatchError(PartnerQAError):
    """The index was built with a different embedder or an unknown format."""


class IndexCorruptError(PartnerQAError):
    """The index folder exists but its files are inconsistent or unreadable."""


class ConfigError(PartnerQAError, ValueError):
    """A setting has a bad value."""


class NotAnIndexError(PartnerQAError):
    """The folder given as the index holds something else; partnerqa will not write into it."""


class IndexWriteError(PartnerQAError):
    """The index folder cannot be written (read-only, disk full...); the live index is unchanged."""
