"""Customer e-mail: the notifications consumer, its templates and the SMTP outlet."""
