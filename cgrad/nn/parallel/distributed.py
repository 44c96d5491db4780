"""DistributedDataParallel as PyTorch's: every rank holds a replica of the
module; construction broadcasts rank 0's parameters and buffers; during
backward each parameter's post-accumulate-grad hook copies its gradient into
a flat bucket (parameters taken in reverse order, the order gradients
usually become ready, a bucket holding one dtype up to bucket_cap_mb), and a
bucket whose gradients are all in starts an asynchronous all-reduce (AVG)
at once, in bucket order on every rank, so communication overlaps the rest
of backward. The hook of the last gradient waits for the all-reduces and
writes the averaged gradients back (or makes each .grad a view of its
bucket with gradient_as_bucket_view=True).

Unlike PyTorch's reducer, the bucket layout is not rebuilt after the first
iteration from the observed gradient order: the reverse parameter order is
kept throughout.
"""
import contextlib
import warnings

import cgrad
import cgrad.distributed as dist
from cgrad.nn.modules.module import Module

_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024
_MB_TO_BYTES = 1024 * 1024
_BROADCAST_BUCKET_BYTES = 250 * 1024 * 1024

_UNFINISHED_REDUCTION = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error "
    "indicates that your module has parameters that were not used in producing loss. You can enable unused "
    "parameter detection by passing the keyword argument `find_unused_parameters=True` to "
    "`cgrad.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
    "participate in calculating loss. If you already have done the above, then the distributed data parallel "
    "module wasn't able to locate the output tensors in the return value of your module's `forward` function. "
    "Please include the loss function and the structure of the return value of `forward` of your module when "
    "reporting this issue (e.g. list, dict, iterable).\nParameter indices which did not receive grad for rank "
    "{rank}: {indices}")


class _Bucket:
    """Flat storage for the gradients of some parameters of one dtype."""

    def __init__(self, params, dtype):
        self.params = params
        self.buffer = cgrad.zeros(sum(p.numel() for p in params), dtype=dtype)
        self.views = []
        offset = 0
        for p in params:
            self.views.append(self.buffer[offset:offset + p.numel()].view(tuple(p.shape)))
            offset += p.numel()
        self.pending = len(params)
        self.work = None


def _tensors_in(output):
    """The tensors of a forward's output (nested tuples, lists, dicts)."""
    found, stack = [], [output]
    while stack:
        x = stack.pop()
        if isinstance(x, cgrad.Tensor):
            found.append(x)
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return found


def _leaves_reached(outputs):
    """Ids of the leaf tensors whose AccumulateGrad the outputs' graph reaches."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    for t in outputs:
        if t.grad_fn is None and t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        stack.extend(n for n, _ in node.next_functions)
    return leaves


class DistributedDataParallel(Module):
    """Data parallelism across the ranks of a process group: wrap a replica
    of the model on every rank, give each rank its share of the batch, and
    backward leaves every rank with the gradients averaged over all ranks."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None, skip_all_reduce_unused_params=False, bucket_cap_mb_list=None,
                 batched_grad_copy=False, forward_sync_buffers=None):
        super().__init__()
        if device_mesh is not None:
            raise RuntimeError("cgrad.distributed has no device meshes: pass process_group")
        self.process_group = dist.distributed_c10d.group_or_default(process_group)
        ignored = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        self.parameters_to_ignore = ignored
        self._module_parameters = [p for n, p in module.named_parameters() if n not in ignored]
        if not any(p.requires_grad for p in self._module_parameters):
            raise RuntimeError("DistributedDataParallel is not needed when a module "
                               "doesn't have any parameter that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        if device_ids or output_device:
            devices = {p.device for p in self._module_parameters}
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.module = module
        self.device = self._module_parameters[0].device
        if broadcast_buffers is not None:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: "
                          "unlike `broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers "
                          "at init. If you rely on buffers NOT being synced at init (e.g. rank-local buffers), "
                          "keep using `broadcast_buffers=False` until `init_sync_buffers` is available.",
                          FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers = forward_sync_buffers
            init_sync_buffers = True
        else:
            self.forward_sync_buffers = broadcast_buffers if broadcast_buffers is not None else True
            init_sync_buffers = self.forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_bytes_cap = int((_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb)
                                    * _MB_TO_BYTES)
        first_cap = _DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self._params = [p for p in self._module_parameters if p.requires_grad]
        if init_sync:
            self._verify_param_shapes()
            self._broadcast_state(include_buffers=init_sync_buffers)
        self._buckets = self._make_buckets(first_cap)
        self._slot_of = {}
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                self._slot_of[id(p)] = (b, i)
        self._armed = False
        self._next_to_launch = 0
        self._ready = set()
        self._locally_unused = set()
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in self._params]

    # construction

    def _verify_param_shapes(self):
        mine = [(tuple(p.shape), str(p.dtype)) for p in self._module_parameters]
        everyone = [None] * self.process_group.size()
        dist.all_gather_object(everyone, mine, group=self.process_group)
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(everyone[0]):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {self.process_group.rank()} "
                                   f"has {len(mine)} params, while rank {r} has inconsistent {len(theirs)} params.")
            for i, (a, b) in enumerate(zip(everyone[0], theirs)):
                if a != b:
                    raise RuntimeError(f"DDP expects same model across all ranks, but rank {r}'s parameter {i} "
                                       f"has shape {list(b[0])} and dtype {b[1]} where rank 0's has shape "
                                       f"{list(a[0])} and dtype {a[1]}.")

    def _broadcast_state(self, include_buffers):
        tensors = [p.detach() for p in self._module_parameters]
        if include_buffers:
            tensors += self._buffers_to_sync()
        works = [dist.broadcast(t, src=dist.get_global_rank(self.process_group, 0), group=self.process_group,
                                async_op=True) for t in tensors]
        for w in works:
            w.wait()

    def _buffers_to_sync(self):
        return [b.detach() for n, b in self.module.named_buffers()
                if n not in self.parameters_to_ignore and b.is_contiguous()]

    def _make_buckets(self, first_cap):
        buckets, current, size, dtype = [], [], 0, None
        cap = first_cap
        for p in reversed(self._params):
            nbytes = p.numel() * p.element_size()
            if current and (p.dtype != dtype or size + nbytes > cap):
                buckets.append(_Bucket(current, dtype))
                current, size, cap = [], 0, self.bucket_bytes_cap
            current.append(p)
            size += nbytes
            dtype = p.dtype
        if current:
            buckets.append(_Bucket(current, dtype))
        return buckets

    # forward

    def forward(self, *inputs, **kwargs):
        if self._armed:
            unfinished = sorted(i for i, p in enumerate(self._params) if id(p) not in self._ready)
            raise RuntimeError(_UNFINISHED_REDUCTION.format(rank=dist.get_rank(), indices=unfinished))
        if self.forward_sync_buffers and self.require_forward_param_sync and self.process_group.size() > 1:
            buffers = self._buffers_to_sync()
            works = [dist.broadcast(b, src=dist.get_global_rank(self.process_group, 0),
                                    group=self.process_group, async_op=True) for b in buffers]
            for w in works:
                w.wait()
        output = self.module(*inputs, **kwargs)
        if cgrad.is_grad_enabled() and self.require_backward_grad_sync:
            self._arm(output)
        return output

    def _arm(self, output):
        """Expect one gradient per parameter in the coming backward; with
        find_unused_parameters, the ones the output cannot reach count as
        ready now (zeros in their bucket)."""
        self._ready = set()
        self._locally_unused = set()
        self._next_to_launch = 0
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.work = None
        self._armed = True
        if self.find_unused_parameters:
            reached = _leaves_reached(_tensors_in(output))
            for p in self._params:
                if id(p) not in reached:
                    self._locally_unused.add(id(p))
                    b, i = self._slot_of[id(p)]
                    self._buckets[b].views[i].zero_()
                    self._mark_ready(p)

    # backward

    def _grad_ready(self, param):
        if not self._armed or id(param) in self._ready or id(param) in self._locally_unused:
            return
        b, i = self._slot_of[id(param)]
        view = self._buckets[b].views[i]
        if param.grad is not view:
            with cgrad.no_grad():
                view.copy_(param.grad)
        self._mark_ready(param)

    def _mark_ready(self, param):
        # MPI advances an all-reduce only while its ranks call into it: test
        # the ones in flight, so they progress while backward goes on
        for bucket in self._buckets[:self._next_to_launch]:
            bucket.work.is_completed()
        self._ready.add(id(param))
        b, _ = self._slot_of[id(param)]
        self._buckets[b].pending -= 1
        while self._next_to_launch < len(self._buckets) and self._buckets[self._next_to_launch].pending == 0:
            bucket = self._buckets[self._next_to_launch]
            bucket.work = dist.all_reduce(bucket.buffer, op=dist.ReduceOp.AVG, group=self.process_group,
                                          async_op=True)
            self._next_to_launch += 1
        if self._next_to_launch == len(self._buckets) and len(self._ready) == len(self._params):
            self._finish_reduction()

    def _finish_reduction(self):
        """Wait for every bucket and hand the averaged gradients back. A
        parameter no rank used keeps the .grad it had (None if none)."""
        globally_used = None
        if self.find_unused_parameters:
            used = cgrad.tensor([0 if id(p) in self._locally_unused else 1 for p in self._params],
                                dtype=cgrad.uint8)
            dist.all_reduce(used, op=dist.ReduceOp.MAX, group=self.process_group)
            globally_used = used.tolist()
        for bucket in self._buckets:
            bucket.work.wait()
        self._armed = False
        with cgrad.no_grad():
            for index, p in enumerate(self._params):
                if globally_used is not None and not globally_used[index]:
                    continue
                b, i = self._slot_of[id(p)]
                view = self._buckets[b].views[i]
                if self.gradient_as_bucket_view:
                    if p.grad is not view:
                        p.grad = view
                elif p.grad is None:
                    p.grad = view.clone()
                else:
                    p.grad.copy_(view)

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally, without communication, inside this
        context; the first backward after it all-reduces the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    @property
    def broadcast_buffers(self):
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value):
        self.forward_sync_buffers = value

    def __getstate__(self):
        raise RuntimeError("DistributedDataParallel is not picklable: save .module or .state_dict()")
