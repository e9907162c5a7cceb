"""argon2id password hashing (off the event loop: hashing is deliberately slow) and the policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool

# argon2id at one of OWASP's equivalent minimums: 7 MiB, 5 passes, 1 lane. Of the five it lists
# (47 MiB x 1 ... 7 MiB x 5) this one costs the least CPU here, ~14 ms per login against ~16.5 ms
# for 19 MiB x 2 (what the service used until 2026-12) and ~155 ms for argon2-cffi's defaults
# (64 MiB, 3 passes, 4 lanes); logins are the most expensive request of an on-sale
# (loadtest/README.md, capacity model). Hashes of other parameters are redone at the next login.
TIME_COST, MEMORY_COST_KIB, PARALLELISM = 5, 7_168, 1
HASH_PREFIX = f"$argon2id$v=19$m={MEMORY_COST_KIB},t={TIME_COST},p={PARALLELISM}$"
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
# Verified when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-timing")

MIN_LENGTH = 8
MAX_LENGTH = 128
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwerty123",
        "qwertyuiop",
        "iloveyou",
        "letmein1",
        "welcome1",
        "admin123",
        "abc12345",
        "11111111",
        "00000000",
        "passw0rd",
        "changeme",
        "trustno1",
        "football",
        "baseball",
        "sunshine1",
    }
)


def password_problems(password: str, email: str) -> list[str]:
    """Why a password is too weak (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        problems.append("is too common or repetitive")
    if lowered == email.lower() or lowered == email.split("@")[0].lower():
        problems.append("must not be your email address")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if len(password) < 16 and classes < 2:
        problems.append(
            "needs two kinds of character (lower, upper, digit, symbol) or 16+ characters"
        )
    return problems


async def hash_password(password: str) -> str:
    return await run_in_threadpool(_hasher.hash, password)


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other parameters than today's (an older default)."""
    return _hasher.check_needs_rehash(password_hash)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return (
                _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    return await run_in_threadpool(verify)
