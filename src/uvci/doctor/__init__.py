"""`uvci doctor`: rules, checks, fixes and reports for existing GitLab pipelines."""
