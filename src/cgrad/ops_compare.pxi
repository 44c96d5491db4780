# Comparisons (lt, le, gt, ge, eq, ne), clamp, maximum, minimum, where.
