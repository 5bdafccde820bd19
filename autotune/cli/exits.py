"""The command line's exit statuses, one table for every command (scripts test them)."""

EXIT_OK = 0
EXIT_NOT_OK = 1  # the work ran but its result is not ok: a failed measurement, a study with nothing verified
EXIT_BAD_INPUT = 2  # bad input, said in one line (UserError's default exit code)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # kill (128 + SIGTERM)
