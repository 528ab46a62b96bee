"""The command-line interface: one module per command group, thin over the library (parse, call,
print, write); nothing else imports it."""
