"""Closed-loop users for throughput benchmarks: each sends its next request at once."""

from locust import FastHttpUser, task


class ClosedLoopUser(FastHttpUser):
    @task
    def page(self):
        self.client.get("/")
