"""The pipeline cost benchmark: replays a GitLab pipeline's dependency work for real."""
