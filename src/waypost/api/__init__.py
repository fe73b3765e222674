"""HTTP only: parse, validate, call one operation, render. No SQL, no graph code."""
