# Graph tasks: what one backward call (backward() / autograd.grad) is
# running, as PyTorch's engine exposes it to Python hooks through
# torch._C._current_graph_task_id and _will_engine_execute_node
# (torch.autograd.graph.register_multi_grad_hook counts with them how many
# of its tensors' hooks the current call will run).
#
# The engine (engine.pxi) keeps no per-graph bookkeeping of its own, so a
# task records only what it already has at hand: its root nodes and, with
# `inputs`, the nodes that lead to them. Which nodes the call reaches is
# walked only when a hook asks, once per task. Tasks nest (a hook may call
# backward) and are per thread, as PyTorch's.

_graph_tasks_tls = _threading.local()
cdef long long graph_task_counter = 0


cdef class _GraphTask:
    cdef readonly long long id
    cdef list roots          # the root nodes
    cdef set runnable        # with inputs: nodes on a path to one of them
    cdef dict targets        # with inputs: their nodes
    cdef bint returns_grads  # autograd.grad: inputs' gradients returned, not accumulated
    cdef set reached         # walked on the first query

    cdef set reached_nodes(self):
        cdef list stack
        cdef Node node
        if self.reached is None:
            self.reached = set(self.roots)
            stack = list(self.roots)
            while stack:
                node = stack.pop()
                if node.next_edges is None:
                    continue
                for nxt in node.next_edges:
                    if nxt is not None and nxt not in self.reached:
                        self.reached.add(nxt)
                        stack.append(nxt)
        return self.reached

    cdef bint will_execute(self, Node node) except -1:
        if self.returns_grads and type(node) is AccumulateGrad:
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are currently "
                               "running autograd.grad(). This is currently not supported.")
        if self.targets is not None:
            return node in self.runnable or node in self.targets
        return node in self.reached_nodes()


cdef list graph_task_stack():
    cdef object stack = getattr(_graph_tasks_tls, "stack", None)
    if stack is None:
        stack = []
        _graph_tasks_tls.stack = stack
    return <list>stack


cdef _GraphTask enter_graph_task(list roots, set runnable, dict targets, bint returns_grads):
    global graph_task_counter
    cdef _GraphTask task = _GraphTask.__new__(_GraphTask)
    graph_task_counter += 1
    task.id = graph_task_counter
    task.roots = roots
    task.runnable = runnable
    task.targets = targets
    task.returns_grads = returns_grads
    graph_task_stack().append(task)
    return task


cdef void exit_graph_task() noexcept:
    cdef list stack = graph_task_stack()
    if stack:
        stack.pop()


def _current_graph_task_id():
    """The id of the backward call running on this thread, -1 outside one."""
    cdef list stack = graph_task_stack()
    return (<_GraphTask>stack[-1]).id if stack else -1


def _will_engine_execute_node(node):
    """Whether the running backward call will execute node (a grad_fn or a
    leaf's AccumulateGrad)."""
    if not isinstance(node, Node):
        raise RuntimeError(f"_will_engine_execute_node expects an grad_fn, but got {type(node).__name__}")
    cdef list stack = graph_task_stack()
    if not stack:
        raise RuntimeError("_get_should_execute_nodes should only be called during the backward pass")
    return (<_GraphTask>stack[-1]).will_execute(<Node>node)
