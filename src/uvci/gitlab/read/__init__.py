"""Reading a user's pipeline the way GitLab does: includes, inputs, extends, variables, jobs."""
