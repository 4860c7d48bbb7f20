"""GitLab CI: reading a user's pipeline (``read``), writing uvci's (``generate``), YAML
(``yaml``)."""
