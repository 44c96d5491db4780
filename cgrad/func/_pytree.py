"""The few pytree operations cgrad.func needs: flatten nested tuples, lists,
dicts and namedtuples into a list of leaves plus a spec, and rebuild from
them (PyTorch's torch.utils._pytree for those containers)."""

LEAF = None


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree):
    """(leaves, spec). A spec is LEAF or (kind, context, child_specs), built
    with an explicit stack (no recursion over user data)."""
    leaves = []
    root = []          # one-slot holder for the root spec
    # stack items: (node, parent child-list, index in it)
    stack = [(tree, root, 0)]
    root.append(None)
    while stack:
        node, parent, index = stack.pop()
        if isinstance(node, (list, tuple, dict)):
            if isinstance(node, dict):
                keys = list(node.keys())
                children = [node[k] for k in keys]
                kind, context = dict, keys
            elif _is_namedtuple(node):
                children, kind, context = list(node), "namedtuple", type(node)
            else:
                children, kind, context = list(node), type(node), None
            child_specs = [None] * len(children)
            parent[index] = (kind, context, child_specs)
            for i in range(len(children) - 1, -1, -1):
                stack.append((children[i], child_specs, i))
        else:
            parent[index] = LEAF
            leaves.append(node)
    return leaves, root[0]


def tree_unflatten(leaves, spec):
    """Rebuild the structure `spec` describes with `leaves` in order."""
    leaves = iter(leaves)
    if spec is LEAF:
        return next(leaves)
    # post-order build: expand, then assemble when all children are done
    result_holder = [None]
    stack = [(spec, result_holder, 0, False, None)]
    while stack:
        node_spec, parent, index, expanded, built = stack.pop()
        if node_spec is LEAF:
            parent[index] = next(leaves)
            continue
        kind, context, child_specs = node_spec
        if not expanded:
            slots = [None] * len(child_specs)
            stack.append((node_spec, parent, index, True, slots))
            for i in range(len(child_specs) - 1, -1, -1):
                stack.append((child_specs[i], slots, i, False, None))
            continue
        if kind is dict:
            parent[index] = dict(zip(context, built))
        elif kind == "namedtuple":
            parent[index] = context(*built)
        else:
            parent[index] = kind(built)
    return result_holder[0]


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def spec_str(spec):
    """A readable form of a spec, for error messages."""
    if spec is LEAF:
        return "*"
    kind, context, children = spec
    inner = ", ".join(spec_str(c) for c in children)
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {spec_str(c)}" for k, c in zip(context, children)) + "}"
    if kind is list:
        return f"[{inner}]"
    return f"({inner}{',' if len(children) == 1 else ''})"
