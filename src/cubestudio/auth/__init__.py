"""Security primitives of the server, below the API: password hashing (argon2), API tokens
(random, stored as SHA-256), login rate limiting, and the key that encrypts project secrets.
Nothing here reads a request; the API layer calls these with plain values."""
