"""The seed's eight load tests as runnable scenarios (see README.md here)."""
