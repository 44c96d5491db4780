"""cgrad.compile's settings, named as torch._dynamo.config's."""

# captures kept per code object before new guard sets run eagerly (torch's default)
recompile_limit = 8
