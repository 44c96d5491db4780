"""Renders the op table into Cython, before cythonize runs (setup.py calls
render_all). Each table module holds rows of data; each template here turns
rows into kernels, nodes, ops and bindings; the output goes to
src/_generated/, rewritten only when its text changes so that unchanged
builds stay incremental.

Row preparation happens here, in Python, so the templates stay close to
the code they produce: C expressions per dtype, the tensor formula, the
saved values and the binding functions are computed once per row.
"""
import os
import re


from . import formula, table_binary, table_jvp, table_unary

HERE = os.path.dirname(os.path.abspath(__file__))

CTYPE = {'F32': 'float', 'F64': 'double', 'I64': 'int64_t', 'BOOL': 'uint8_t', 'F16': 'uint16_t',
         'I8': 'int8_t', 'I16': 'int16_t', 'I32': 'int32_t', 'U8': 'uint8_t', 'BF16': 'uint16_t'}
OPT = dict(CTYPE, F16='float', BF16='float')
ALL = ['F32', 'F64', 'I64', 'BOOL', 'F16', 'I8', 'I16', 'I32', 'U8', 'BF16']
FLOATS = ['F32', 'F64', 'F16', 'BF16']
INTS = ['I64', 'I8', 'I16', 'I32', 'U8']
# the 16-bit floats: stored as bits, computed in float32 by the float32
# kernel over converted blocks (their block driver) or rounded per op
HALFS = ('F16', 'BF16')
BLOCKS = {'F16': 'half_blocks', 'BF16': 'bf16_blocks'}


def LD(code, e):
    return f'{formula.TO_FLOAT[code]}({e})' if code in HALFS else e


def SV(code, e):
    return f'{formula.FROM_FLOAT[code]}({e})' if code in HALFS else e


class Row:
    """A table row with everything its template needs."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _sub_params(expr, params, spell):
    for k, (pname, _) in enumerate(params):
        expr = re.sub(r'\b%s\b' % pname, spell(k), expr)
    return expr


def _signature(params, none_as):
    parts = []
    for pname, default in params:
        parts.append(f'{pname}=None' if pname in none_as else
                     (pname if default is None else f'{pname}={default!r}'))
    return ''.join(', ' + p for p in parts)


def bindings(r, api):
    """The Python-level functions of a row, and where they are installed."""
    sig, call = _signature(r.params, r.none_as), r.param_call
    name = r.name
    first = r.params_first
    # the Python names of the parameters as the op takes them (None resolved;
    # a str stands for an expression of the input, spelled {x})
    def resolve(xname):
        return ''.join(f'    {p} = {v.format(x=xname) if isinstance(v, str) else repr(v)} if {p} is None else {p}\n'
                       for p, v in r.none_as.items())
    conv = resolve('input')
    out, methods, functional = [], [], []
    fsig = f'{sig[2:]}, input' if first else f'input{sig}'
    if not api:  # used only inside other ops' formulas: a private entry for the generic tests
        out.append(f'def _op_{name}({fsig}):\n' + conv +
                   f'    return op_{name}(input_arg(input, "{name}"){call})')
    msig = f'self, {sig[2:]}' if first else f'self{sig}'
    if 'fn' in api and r.no_out:
        out.append(f'def {name}({fsig}):\n' + conv +
                   f'    return op_{name}(input_arg(input, "{name}"){call})')
    elif 'fn' in api:
        out.append(
            f'def {name}({fsig}, *, out=None):\n' + conv +
            f'    cdef Tensor a = input_arg(input, "{name}")\n'
            f'    if out is not None:\n'
            f'        check_out(out, "{name}", a)\n'
            + (f'        check_out_dtype(out, op_result_dtype(a))\n' if r.out_exact else '')
            + (f'        {r.out_check}\n' if r.out_check else '') +
            f'        return write_out(op_{name}(a{call}), out)\n'
            f'    return op_{name}(a{call})')
    if 'fn_' in api:
        out.append(f'def {name}_({fsig}):\n' + conv +
                   f'    return op_{name}_(input_arg(input, "{name}_"){call})')
    conv = resolve('self')
    if 'meth' in api:
        out.append(f'def _tensor_{name}({msig}):\n' + conv +
                   f'    return op_{name}(input_arg(self, "{name}"){call})')
        methods.append((name, f'_tensor_{name}'))
    if 'meth_' in api:
        out.append(f'def _tensor_{name}_({msig}):\n' + conv +
                   f'    return op_{name}_(input_arg(self, "{name}_"){call})')
        methods.append((name + '_', f'_tensor_{name}_'))
    conv = resolve('input')
    if 'F' in api:
        if 'F_' in api:
            out.append(f'def _functional_{name}(input{sig}, inplace=False):\n' + conv +
                       f'    cdef Tensor a = input_arg(input, "{name}")\n'
                       f'    return op_{name}_(a{call}) if inplace else op_{name}(a{call})')
            out.append(f'def _functional_{name}_(input{sig}):\n' + conv +
                       f'    return op_{name}_(input_arg(input, "{name}_"){call})')
            functional.append((name + '_', f'_functional_{name}_'))
        else:
            out.append(f'def _functional_{name}(input{sig}):\n' + conv +
                       f'    return op_{name}(input_arg(input, "{name}"){call})')
        functional.append((name, f'_functional_{name}'))
    return out, methods, functional


def jvp_column(row, table):
    """A row's JVP formula text ('element_wise' or a formula), or None."""
    return row.get('jvp', table.get(row['name']))


def prepare_unary_jvp(row, tensor_names):
    """The Cython expression of a unary row's JVP over `t` (the tangent),
    `x`, `y` and the node's parameters; None when the row has none."""
    text = jvp_column(row, table_jvp.UNARY)
    if text is None:
        return None
    if text == table_jvp.ELEMENT_WISE:
        if 'grad' in row:
            return formula.TensorRenderer(tensor_names).render(formula.parse(row['grad']))
        return row['formula']       # legacy rows: their tensor formula over g (bound to the tangent)
    return formula.TensorRenderer(tensor_names).render(formula.parse(text))


def prepare_unary(row):
    params = tuple(row.get('params', ()))
    grad = formula.parse(row['grad'])
    grad_kernel = formula.parse(row.get('grad_kernel', row['grad']))
    used = formula.variables(row['grad']) | formula.variables(row.get('grad_kernel', row['grad']))
    reads = [v for v in ('x', 'y') if v in used]
    ints = row['ints']
    bool_ok = row.get('bool_ok', False)
    fwd_codes = FLOATS + (INTS if ints == 'native' else []) + (['BOOL'] if bool_ok else [])
    fwd = {}
    for code in fwd_codes:
        if code in HALFS:
            continue
        if code in INTS or code == 'BOOL':
            e = row['ifwd'].replace('<T>', f'<{CTYPE[code]}>')
            fwd[code] = _sub_params(e, params, lambda k: f'prm[{k}]')
        else:
            ct = OPT[code]
            e = row['fwd'].replace('<CT>', f'<{ct}>')
            fwd[code] = _sub_params(e, params, lambda k, ct=ct: f'(<{ct}>prm[{k}])')
    per_op = row.get('half') == 'per_op'
    bwd = {}
    for code in FLOATS:
        ct = OPT[code]
        names = {p: f'(<{ct}>prm[{k}])' for k, (p, _) in enumerate(params)}
        if code not in HALFS or per_op:
            bwd[code] = formula.ScalarRenderer(ct, names, half=(code in HALFS and code)).render(grad_kernel)
    tensor_names = {p: f'self.prm[{k}]' for k, (p, _) in enumerate(params)}
    saved = {'x': 'x', 'y': 'y'}
    bf16_fwd = row.get('bf16_fwd')
    if bf16_fwd:
        bf16_fwd = _sub_params(bf16_fwd, params, lambda k: f'prm[{k}]')
    r = Row(
        name=row['name'], NAME=row['name'].upper(), node=row['node'], ints=ints, bool_ok=bool_ok,
        bf16_fwd=bf16_fwd,
        node_class=row.get('node_class', row['node']),
        inplace_class=row.get('inplace_node_class', row.get('inplace_node')),
        out_check=row.get('out_check'), no_out=row.get('no_out', False),
        inplace_formula=None, ibwd={},
        inplace_backward_check=_sub_params(row.get('inplace_backward_check', ''), params,
                                           lambda k: f'self.prm[{k}]'),
        kernel=row.get('kernel', row['name'] + '_cpu'), params=params,
        bool_error=row.get('bool_error', '"%s" not implemented for \'Bool\'' % row.get('kernel', row['name'] + '_cpu')),
        check=row.get('check'), bool_error_type='RuntimeError' if 'bool_error' in row else 'NotImplementedError',
        inplace_grad=row.get('inplace_grad', True), inplace_node=row.get('inplace_node'),
        half_grad_error=row.get('half_grad_error'),
        params_first=row.get('params_first', False), none_as=row.get('none_as', {}),
        param_names=[p for p, _ in params], out_exact=row.get('out_dtype') == 'exact',
        reads=reads, nops=2 + len(reads), fwd_codes=fwd_codes, fwd=fwd,
        scalar_fwd=row['fwd'].replace('<CT>', '<real_t>'),
        vec_rows=row.get('vec_rows', {}),
        bwd=bwd, half_per_op=per_op,
        formula=formula.TensorRenderer(tensor_names).render(grad),
        jvp=prepare_unary_jvp(row, tensor_names),
        saved_args=', '.join(saved[v] if v in reads else 'None' for v in ('x', 'y')),
        param_decl=''.join(f', double {p}' for p, _ in params),
        param_call=''.join(f', {p}' for p, _ in params),
    )
    if row.get('inplace_grad_formula'):
        tree = formula.parse(row['inplace_grad_formula'])
        if not formula.variables(row['inplace_grad_formula']) <= {'g', 'y'}:
            raise formula.FormulaError(f"{r.name}: inplace_grad_formula reads g and y only")
        r.inplace_formula = formula.TensorRenderer(tensor_names).render(tree)
        for code in FLOATS:
            if code not in HALFS or per_op:
                names = {p: f'(<{OPT[code]}>prm[{k}])' for k, (p, _) in enumerate(params)}
                r.ibwd[code] = formula.ScalarRenderer(OPT[code], names, half=(code in HALFS and code)).render(tree)
    r.bindings, r.methods, r.functional = bindings(r, row.get('api', ()))
    # op_<name>_ is rendered only where an in-place binding calls it (an unused
    # static function is a C compiler warning)
    r.has_inplace = any(k in row.get('api', ()) for k in ('fn_', 'meth_', 'F_'))
    r.meta = dict(name=r.name, node=r.node, ints=ints, params=params, api=tuple(row.get('api', ())),
                  domain=row.get('domain', (-3.0, 3.0)), kernel=r.kernel,
                  params_first=r.params_first, out=not r.no_out)
    return r


def binary_bindings(r, api):
    name, out, methods = r.name, [], []
    # an op computing integers in float32 takes a number at its own value (-3 stays -3 beside uint8)
    float_math = ', True' if r.ints == 'float' else ''
    flags = f'{bool(r.scalar_self)}, {bool(r.scalar_other)}{float_math}'
    if 'fn' in api:
        out.append(f'def {name}(input, other, *, out=None):\n'
                   f'    a, b, which = binary_operands(input, other, "{name}", {flags})\n'
                   f'    return with_out(op_{name}(a, b, which), out, "{name}")')
    if 'fn_' in api:
        out.append(f'def {name}_(input, other):\n'
                   f'    a, b, which = binary_operands(input, other, "{name}_", False, {bool(r.scalar_other)}{float_math})\n'
                   f'    return binary_inplace(op_{name}, a, b, which)')
    if 'meth' in api:
        out.append(f'def _tensor_{name}(self, other):\n'
                   f'    a, b, which = binary_operands(self, other, "{name}", False, {bool(r.scalar_other)}{float_math})\n'
                   f'    return op_{name}(a, b, which)')
        methods.append((name, f'_tensor_{name}'))
    if 'meth_' in api:
        out.append(f'def _tensor_{name}_(self, other):\n'
                   f'    a, b, which = binary_operands(self, other, "{name}_", False, {bool(r.scalar_other)}{float_math})\n'
                   f'    return binary_inplace(op_{name}, a, b, which)')
        methods.append((name + '_', f'_tensor_{name}_'))
    return out, methods


def prepare_binary(row):
    ints = row['ints']
    fwd_codes = FLOATS + (INTS + ['BOOL'] if ints == 'native' else [])
    fwd = {}
    for code in fwd_codes:
        if code in HALFS:
            continue
        if code in FLOATS:
            fwd[code] = row['fwd'].replace('<CT>', f'<{OPT[code]}>')
        else:
            fwd[code] = row['ifwd'].replace('<T>', f'<{CTYPE[code]}>')
    per_op = row.get('half') == 'per_op'
    grads = []
    if not row.get('no_grad'):
        for k, key in enumerate(('grad_self', 'grad_other')):
            if row.get(key) is None:
                continue
            tree = formula.parse(row[key])
            operands = [v for v in ('x', 'other', 'y') if v in formula.variables(row[key])]
            kernel = {code: formula.ScalarRenderer(OPT[code], {}, half=(code in HALFS and code)).render(tree)
                      for code in FLOATS if code not in HALFS or per_op}
            grads.append(Row(input=k, var='ga' if k == 0 else 'gb', operands=operands, kernel=kernel,
                             formula=formula.TensorRenderer({}).render(tree),
                             operand_args=', '.join(operands + ['None'] * (3 - len(operands)))))
    jvp = None
    text = jvp_column(row, table_jvp.BINARY)
    if text == table_jvp.ELEMENT_WISE and not row.get('no_grad'):
        # a gradient that is identically zero is no dependence: an input's
        # tangent alone then gives no tangent, as PyTorch's formulas
        jvp = [(g.input, g.formula) for g in grads if g.formula != 'op_zeros_like(g)']
    elif text is not None and not row.get('no_grad'):
        jvp = [(-1, formula.TensorRenderer({}).render(formula.parse(text)))]
    scalar_nodes, scalar_slots = [], []
    if row.get('scalar_self'):
        scalar_nodes.append(row['scalar_self'])
        scalar_slots.append(1)
    if row.get('scalar_other'):
        scalar_nodes.append(row['scalar_other'])
        scalar_slots.append(2)
    r = Row(name=row['name'], NAME=row['name'].upper(), node=row['node'], ints=ints,
            bf16_fwd=row.get('bf16_fwd'),
            kernel=row.get('kernel', row['name'] + '_cpu'), fwd_codes=fwd_codes, fwd=fwd,
            half_per_op=per_op, grads=grads, no_grad=row.get('no_grad', False), jvp=jvp,
            scalar_nodes=scalar_nodes, scalar_slots=scalar_slots,
            scalar_self=row.get('scalar_self'), scalar_other=row.get('scalar_other'))
    r.bindings, r.methods = binary_bindings(r, row.get('api', ()))
    r.meta = dict(name=r.name, node=r.node, ints=ints, api=tuple(row.get('api', ())),
                  scalar_self=bool(r.scalar_self), scalar_other=bool(r.scalar_other),
                  no_grad=r.no_grad, domain=row.get('domain', (-3.0, 3.0)),
                  domain_other=row.get('domain_other', row.get('domain', (-3.0, 3.0))))
    return r


def write_if_changed(path, text):
    old = None
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            old = f.read()
    if old != text:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)


def render_template(name, **namespace):
    with open(os.path.join(HERE, name), encoding='utf-8') as f:
        from Cython.Tempita import sub as tempita_sub   # here: the table's data needs no Cython (tests read it)
        return tempita_sub(f.read(), **namespace)


def rows_without_jvp():
    """Table rows whose forward AD raises PyTorch's not-implemented error."""
    missing = [row['name'] for row in table_unary.LEGACY + table_unary.TABLE
               if jvp_column(row, table_jvp.UNARY) is None]
    missing += [row['name'] for row in table_binary.TABLE
                if not row.get('no_grad') and jvp_column(row, table_jvp.BINARY) is None]
    return missing


def render_all(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    missing = rows_without_jvp()
    if missing:
        print("cgrad op table: rows without a JVP (forward AD raises for them; add them to "
              "src/codegen/table_jvp.py): " + ", ".join(missing))
    formula.register_table_ops(row['name'] for row in table_unary.TABLE if not row.get('params'))
    common = dict(CTYPE=CTYPE, OPT=OPT, ALL=ALL, FLOATS=FLOATS, INTS=INTS, LD=LD, SV=SV, HALFS=HALFS,
                  BLOCKS=BLOCKS)
    write_if_changed(os.path.join(out_dir, 'ops_unary.pxi'),
                     render_template('unary.pxi.tp', UNARY=table_unary.LEGACY, HALFS=HALFS, BLOCKS=BLOCKS,
                                     LD=LD, SV=SV,
                                     JVP={row['name']: prepare_unary_jvp(row, {}) for row in table_unary.LEGACY}))
    ops = [prepare_unary(row) for row in table_unary.TABLE]
    write_if_changed(os.path.join(out_dir, 'ops_unary_table.pxi'),
                     render_template('unary_table.pxi.tp', ops=ops, **common))
    ops = [prepare_binary(row) for row in table_binary.TABLE]
    write_if_changed(os.path.join(out_dir, 'ops_binary_table.pxi'),
                     render_template('binary_table.pxi.tp', ops=ops, **common))
