//! scutum: a minimal, hardened OCI container runtime.
