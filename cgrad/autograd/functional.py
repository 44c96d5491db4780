"""cgrad.autograd.functional: PyTorch's torch.autograd.functional (jacobian,
hessian, vjp, jvp, hvp, vhp) over cgrad's reverse-mode engine.

The structure, checks and error texts follow PyTorch's implementation of the
same module, so results nest the same way (a tuple per output, inside it one
entry per input) and strict mode fails on the same conditions. jvp and hvp
use the double-backward trick as PyTorch does (jvp only in strict mode).
vectorize=True computes all rows of a Jacobian with one
autograd.grad(is_grads_batched=True) call on the recorded graph (one batched
backward pass, cgrad/autograd/_batched_grad.py); jvp and
strategy="forward-mode" run in forward mode (cgrad.autograd.forward_ad),
the forward-mode Jacobian as vmap over jvp of the standard basis."""
import cgrad
from cgrad import _C
from cgrad.autograd import forward_ad

__all__ = ['vjp', 'jvp', 'jacobian', 'hessian', 'hvp', 'vhp']

def _as_tuple_nocheck(x):
    if isinstance(x, tuple):
        return x
    elif isinstance(x, list):
        return tuple(x)
    else:
        return (x,)

def _as_tuple(inp, arg_name=None, fn_name=None):
    if arg_name is None and fn_name is None:
        return _as_tuple_nocheck(inp)
    is_inp_tuple = True
    if not isinstance(inp, tuple):
        inp = (inp,)
        is_inp_tuple = False
    for i, el in enumerate(inp):
        if not isinstance(el, cgrad.Tensor):
            if is_inp_tuple:
                raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a tuple '
                                f'of Tensors but the value at index {i} has type {type(el)}.')
            else:
                raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a tuple '
                                f'of Tensors but the given {arg_name} has type {type(el)}.')
    return (is_inp_tuple, inp)

def _inputs_and_v(inputs, v, create_graph, fn_name):
    """fn_name's inputs and v checked and prepared: (is_inputs_tuple, inputs, v),
    v None only where the input is a single one-element tensor."""
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, 'v', fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError('The vector v can only be None if the input to the user-provided function '
                           'is a single Tensor with a single element.')
    return is_inputs_tuple, inputs, v

def _grad_mode_for(create_graph):
    """The grad mode of the last differentiation: on to build a graph, else the caller's."""
    return cgrad.set_grad_enabled(True if create_graph else cgrad.is_grad_enabled())

def _results(outputs, product, create_graph, is_outputs_tuple, is_product_tuple):
    """(func's outputs, the product), detached unless create_graph, unpacked as their inputs were."""
    outputs = _grad_postprocess(outputs, create_graph)
    product = _grad_postprocess(product, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(product, is_product_tuple))

def _tuple_postprocess(res, to_unpack):
    if isinstance(to_unpack, tuple):
        if len(to_unpack) != 2:
            raise AssertionError('Expected to_unpack tuple to have exactly 2 elements')
        if not to_unpack[1]:
            res = tuple((el[0] for el in res))
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res

def _grad_preprocess(inputs, create_graph, need_graph):
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            if not inp.is_sparse:
                res.append(inp.view_as(inp))
            else:
                res.append(inp.clone())
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)

def _grad_postprocess(inputs, create_graph):
    if isinstance(inputs[0], cgrad.Tensor):
        if not create_graph:
            return tuple((inp.detach() for inp in inputs))
        else:
            return inputs
    else:
        return tuple((_grad_postprocess(inp, create_graph) for inp in inputs))

def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f'v is a tuple of invalid length: should be {len(other)} but got {len(v)}.')
        else:
            raise RuntimeError('The given v should contain a single Tensor.')
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = ''
            if is_other_tuple:
                prepend = f'Entry {idx} in '
            raise RuntimeError(f'{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.')

def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    if input_type not in ['outputs', 'grad_inputs', 'jacobian', 'hessian']:
        raise RuntimeError('Invalid input_type to _check_requires_grad')
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f'The output of the user-provided function is independent of input {i}. '
                               'This is not allowed in strict mode.')
        if not inp.requires_grad:
            if input_type == 'hessian':
                raise RuntimeError(f'The hessian of the user-provided function with respect to input {i} '
                                   'is independent of the input. This is not allowed in strict mode. You '
                                   'should ensure that your function is thrice differentiable and that '
                                   'the hessian depends on the inputs.')
            elif input_type == 'jacobian':
                raise RuntimeError('While computing the hessian, found that the jacobian of the user-provided '
                                   f'function with respect to input {i} is independent of the input. This '
                                   'is not allowed in strict mode. You should ensure that your function '
                                   'is twice differentiable and that the jacobian depends on the inputs '
                                   '(this would be violated by a linear function for example).')
            elif input_type == 'grad_inputs':
                raise RuntimeError(f'The gradient with respect to input {i} is independent of the inputs '
                                   'of the user-provided function. This is not allowed in strict mode.')
            else:
                raise RuntimeError(f'Output {i} of the user-provided function does not require gradients. '
                                   'The outputs must be computed in a differentiable manner from the input '
                                   'when running in strict mode.')

def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None,
                   is_grads_batched=False):
    if not isinstance(outputs, tuple):
        raise AssertionError('Expected outputs to be a tuple')
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if not isinstance(grad_outputs, tuple):
        raise AssertionError('Expected grad_outputs to be a tuple')
    if len(outputs) != len(grad_outputs):
        raise AssertionError(f'Expected outputs and grad_outputs to have the same length, but got {len(outputs)} '
                             f'and {len(grad_outputs)}')
    new_outputs: tuple = ()
    new_grad_outputs: tuple = ()
    for out, grad_out in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs += (out,)
            new_grad_outputs += (grad_out,)
    if len(new_outputs) == 0:
        return (None,) * len(inputs)
    else:
        return cgrad.autograd.grad(new_outputs, inputs, new_grad_outputs, allow_unused=True,
                                   create_graph=create_graph, retain_graph=retain_graph,
                                   is_grads_batched=is_grads_batched)

def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    if stage not in ['back', 'back_trick', 'double_back', 'double_back_trick']:
        raise RuntimeError(f"Invalid stage argument '{stage}' to _fill_in_zeros")
    res: tuple = ()
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                if stage == 'back':
                    raise RuntimeError('The output of the user-provided function is independent of input '
                                       f'{i}. This is not allowed in strict mode.')
                elif stage == 'back_trick':
                    raise RuntimeError('The gradient with respect to the input is independent of entry '
                                       f'{i} in the grad_outputs when using the double backward trick to '
                                       'compute forward mode gradients. This is not allowed in strict '
                                       'mode.')
                elif stage == 'double_back':
                    raise RuntimeError('The jacobian of the user-provided function is independent of input '
                                       f'{i}. This is not allowed in strict mode.')
                else:
                    raise RuntimeError('The hessian of the user-provided function is independent of entry '
                                       f'{i} in the grad_jacobian. This is not allowed in strict mode as '
                                       'it prevents from using the double backward trick to replace forward '
                                       'mode AD.')
            grads_i = cgrad.zeros_like(refs[i])
        elif strict and create_graph and (not grads_i.requires_grad):
            if 'double' not in stage:
                raise RuntimeError('The jacobian of the user-provided function is independent of input '
                                   f'{i}. This is not allowed in strict mode when create_graph=True.')
            else:
                raise RuntimeError('The hessian of the user-provided function is independent of input '
                                   f'{i}. This is not allowed in strict mode when create_graph=True.')
        res += (grads_i,)
    return res

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs."""
    with cgrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'vjp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'vjp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if v is not None:
            _, v = _as_tuple(v, 'v', 'vjp')
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError('The vector v can only be None if the user-provided function returns a '
                               'single Tensor with a single element.')
    with _grad_mode_for(create_graph):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        vjp = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'back')
    return _results(outputs, vjp, create_graph, is_outputs_tuple, is_inputs_tuple)

def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), in forward mode: one pass of func over dual
    tensors. strict=True keeps PyTorch's double-backward trick (backward of a
    backward taken with respect to a dummy grad_output), whose intermediate
    checks define strict mode's errors."""
    if not strict:
        return _jvp_forward_mode(func, inputs, v, create_graph)
    with cgrad.enable_grad():
        is_inputs_tuple, inputs, v = _inputs_and_v(inputs, v, create_graph, 'jvp')
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'jvp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        grad_outputs = tuple((cgrad.zeros_like(out, requires_grad=True) for out in outputs))
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, 'grad_inputs', strict=strict)
    with _grad_mode_for(create_graph):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        jvp = _fill_in_zeros(grad_res, outputs, strict, create_graph, 'back_trick')
    return _results(outputs, jvp, create_graph, is_outputs_tuple, is_outputs_tuple)

def _jvp_forward_mode(func, inputs, v, create_graph):
    with cgrad.enable_grad():
        is_inputs_tuple, inputs, v = _inputs_and_v(inputs, v, create_graph, 'jvp')
        if v is None:
            v = (cgrad.ones_like(inputs[0]),)
        with forward_ad.dual_level():
            duals = tuple(forward_ad.make_dual(inp, vi) for inp, vi in zip(inputs, v))
            outputs = func(*duals)
            is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'jvp')
            _check_requires_grad(outputs, 'outputs', strict=False)
            pairs = [forward_ad.unpack_dual(out) for out in outputs]
        outputs = tuple(p for p, _ in pairs)
        jvp = _fill_in_zeros(tuple(t for _, t in pairs), outputs, False, create_graph, 'back_trick')
    return _results(outputs, jvp, create_graph, is_outputs_tuple, is_outputs_tuple)


def _construct_standard_basis_for(tensors, tensor_numels):
    """One chunk per tensor, together the rows of the identity of size
    sum(numels): chunk k is (total, numel_k) with ones on its block of the
    diagonal."""
    total_numel = sum(tensor_numels)
    chunks = []
    start = 0
    for tensor, numel in zip(tensors, tensor_numels):
        parts = []
        if start:
            parts.append(_C.zeros((start, numel), dtype=tensor.dtype))
        parts.append(_C.eye(numel, dtype=tensor.dtype))
        if total_numel - start - numel:
            parts.append(_C.zeros((total_numel - start - numel, numel), dtype=tensor.dtype))
        chunks.append(parts[0] if len(parts) == 1 else _C.cat(parts, 0))
        start += numel
    return tuple(chunks)


def _jacfwd(func, inputs, strict=False, vectorize=False):
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                           'are not supported together (yet). Please either set `strict=False` or '
                           '`strategy="reverse-mode"`.')
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jacobian')
    if not vectorize:
        raise NotImplementedError('Computing Jacobian using forward-AD or forward-over-reverse Hessian is'
                                  'only implemented for `vectorize=True`.')
    # every column in one forward pass: vmap over jvp of the standard basis,
    # as PyTorch's _jacfwd (its legacy vmap does not warn on a fallback)
    from cgrad.func._batched import quiet_fallback
    from cgrad.func._forward import _jvp_with_argnums
    from cgrad.func import vmap
    input_numels = tuple(inp.numel() for inp in inputs)
    basis = _construct_standard_basis_for(inputs, input_numels)
    output_info = []

    def outputs_as_tuple(*duals):
        is_outputs_tuple, outs = _as_tuple(func(*duals), 'outputs')
        output_info.append(is_outputs_tuple)
        return outs

    def push_jvp(*tangents):
        tangents = tuple(t.view_as(inp) for t, inp in zip(tangents, inputs))
        # PyTorch's _jacfwd detaches nothing: a tangent with history (hessian's
        # forward-over-reverse marks its inputs requiring grad) keeps it
        return _jvp_with_argnums(outputs_as_tuple, inputs, tangents, None, keep_graph=True)
    if sum(input_numels) == 0:
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), 'outputs')
        tangents = tuple(_C.zeros((0,) + tuple(o.shape), dtype=o.dtype) for o in outputs)
    else:
        with quiet_fallback():
            primals_out, tangents = vmap(push_jvp)(*basis)
        is_outputs_tuple = output_info[0]
        outputs = tuple(p[0] for p in primals_out)
    jacobian_input_output = []
    for jac_output_i, output_i in zip(tangents, outputs):
        jacobian_output_i = []
        for jac, input_j in zip(jac_output_i.split(list(input_numels), 0), inputs):
            # the batch dim runs over the inputs' elements: it goes last
            jac = jac.permute(*range(1, jac.dim()), 0)
            jacobian_output_i.append(jac.reshape(tuple(output_i.shape) + tuple(input_j.shape)))
        jacobian_input_output.append(tuple(jacobian_output_i))
    return _tuple_postprocess(tuple(jacobian_input_output), (is_outputs_tuple, is_inputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy='reverse-mode'):
    """The Jacobian of func at inputs: for tuples, a tuple per output
    holding one entry per input (out.shape + in.shape each)."""
    if strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If '
                             'your function has more outputs than inputs, "forward-mode" tends to be more '
                             'performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == 'forward-mode':
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` '
                                      'are not supported together (yet). Please either set `create_graph=False` '
                                      'or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with cgrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jacobian')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        raw_outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(raw_outputs, 'outputs of the user-provided function', 'jacobian')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if vectorize:
            if strict:
                raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` '
                                   'are not supported together. Please either set `strict=False` or `vectorize=False`.')
            output_numels = tuple((output.numel() for output in outputs))
            grad_outputs = _construct_standard_basis_for(outputs, output_numels)
            flat_outputs = tuple((output.reshape(-1) for output in outputs))

            def vjp(grad_output):
                vj = list(_autograd_grad(flat_outputs, inputs, grad_output, create_graph=create_graph,
                                         is_grads_batched=True))
                for el_idx, vj_el in enumerate(vj):
                    if vj_el is not None:
                        continue
                    vj[el_idx] = cgrad.zeros_like(inputs[el_idx]).expand(
                        (sum(output_numels),) + inputs[el_idx].shape)
                return tuple(vj)
            # PyTorch's: one backward pass over the recorded graph, batched over the basis rows
            jacobians_of_flat_output = vjp(grad_outputs)
            jacobian_input_output = []
            for jac_input_i, input_i in zip(jacobians_of_flat_output, inputs):
                jacobian_input_i_output = []
                for jac, output_j in zip(jac_input_i.split(output_numels, dim=0), outputs):
                    jacobian_input_i_output_j = jac.view(output_j.shape + input_i.shape)
                    jacobian_input_i_output.append(jacobian_input_i_output_j)
                jacobian_input_output.append(jacobian_input_i_output)
            jacobian_output_input = tuple(zip(*jacobian_input_output))
            jacobian_output_input = _grad_postprocess(jacobian_output_input, create_graph)
            return _tuple_postprocess(jacobian_output_input, (is_outputs_tuple, is_inputs_tuple))
        # One backward per output element, as PyTorch's loop, with the rows
        # of the identity as grad_outputs (autograd.grad's batched path runs
        # the rows; no per-element indexing of the output in Python).
        jacobian = ()
        for i, out in enumerate(outputs):
            numel = out.nelement()
            if numel == 0:
                raise RuntimeError('stack expects a non-empty TensorList')
            (basis,) = _construct_standard_basis_for((out,), (numel,))
            vj = _autograd_grad((out.reshape(-1),), inputs, (basis,), retain_graph=True,
                                create_graph=create_graph, is_grads_batched=True)
            jac_i = []
            for el_idx, (vj_el, inp_el) in enumerate(zip(vj, inputs)):
                if vj_el is not None:
                    if strict and create_graph and (not vj_el.requires_grad):
                        msg = (f'The jacobian of the user-provided function is independent of input {i}. '
                               'This is not allowed in strict mode when create_graph=True.')
                        raise RuntimeError(msg)
                else:
                    if strict:
                        msg = (f'Output {i} of the user-provided function is independent of input {el_idx}. '
                               'This is not allowed in strict mode.')
                        raise RuntimeError(msg)
                    vj_el = _C.zeros((numel,) + tuple(inp_el.shape), dtype=inp_el.dtype)
                jac_i.append(vj_el.view(tuple(out.size()) + tuple(inp_el.size())))
            jacobian += (tuple(jac_i),)
        jacobian = _grad_postprocess(jacobian, create_graph)
        return _tuple_postprocess(jacobian, (is_outputs_tuple, is_inputs_tuple))

def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy='reverse-mode'):
    """The Hessian of a scalar func at inputs (a tuple of tuples for
    tuple inputs), as the Jacobian of its gradient."""
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'hessian')
    if outer_jacobian_strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, 'outputs of the user-provided function', 'hessian')
        _check_requires_grad(t_out, 'outputs', strict=strict)
        if is_out_tuple or not isinstance(out, cgrad.Tensor):
            raise RuntimeError('The function given to hessian should return a single Tensor')
        if out.nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to hessian should contain a '
                               'single element')
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == 'forward-mode':
            inp = tuple((t.requires_grad_(True) for t in inp))
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
        return jac
    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))

def _scalar_function_gradient(func, inputs, v, create_graph, strict, name):
    """The first half vhp and hvp share (under enable_grad): the inputs and v
    checked and prepared, func's single scalar output, and its gradient with
    a graph, ready to be differentiated once more."""
    is_inputs_tuple, inputs, v = _inputs_and_v(inputs, v, create_graph, name)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', name)
    _check_requires_grad(outputs, 'outputs', strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], cgrad.Tensor):
        raise RuntimeError(f'The function given to {name} should return a single Tensor')
    if outputs[0].nelement() != 1:
        raise RuntimeError(f'The Tensor returned by the function given to {name} should contain a single '
                           'element')
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, 'jacobian', strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): vector-Hessian product of a scalar func."""
    with cgrad.enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, 'vhp')
    with _grad_mode_for(create_graph):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        vhp = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back')
    return _results(outputs, vhp, create_graph, is_outputs_tuple, is_inputs_tuple)

def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v), by the double-backward trick."""
    with cgrad.enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_gradient(
            func, inputs, v, create_graph, strict, 'hvp')
        grad_jac = tuple((cgrad.zeros_like(inp, requires_grad=True) for inp in inputs))
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, 'hessian', strict=strict)
    with _grad_mode_for(create_graph):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        hvp = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back_trick')
    return _results(outputs, hvp, create_graph, is_outputs_tuple, is_inputs_tuple)
