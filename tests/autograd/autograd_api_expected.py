"""What torch 2.13 returns for the run_both expressions of
test_autograd_api.py, recorded as literals (torch's texts with "torch."
read as "cgrad."), so the tests check cgrad's results without torch too.
With torch, run_both checks cgrad against torch and against these."""

EXPECTED = {'test_backward_inputs_with_non_leaf': ([6.0, 12.0], [18.0, 36.0]),
 'test_custom_function_errors_match_torch': ['function TooManyBackward returned an incorrect number of '
                                             'gradients (expected 1, got 2)',
                                             'Function WrongShapeBackward returned an invalid gradient at '
                                             'index 0 - got [3] but expected shape compatible with [2]',
                                             'Trying to backward through the graph a second time (or '
                                             'directly access saved tensors after they have already been '
                                             'freed). Saved intermediate values of the graph are freed when '
                                             'you call .backward() or autograd.grad(). Specify '
                                             'retain_graph=True if you need to backward through the graph a '
                                             'second time or if you need to access saved tensors after '
                                             'calling backward.'],
 'test_custom_function_matches_torch': ('ExpBackward',
                                        (True, False),
                                        True,
                                        False,
                                        [245.17792, 37.79262],
                                        [93.44454, 16.78333],
                                        ['ExpBackward', 'AccumulateGrad']),
 'test_grad_errors_match_torch': ['The differentiated Tensor at index 0 appears to not have been used in the '
                                  'graph. Set allow_unused=True if this is the desired behavior.',
                                  'element 0 of tensors does not require grad and does not have a grad_fn',
                                  'Mismatch in shape: grad_output[0] has a shape of cgrad.Size([3]) and '
                                  'output[0] has a shape of cgrad.Size([2]).',
                                  'grad can be implicitly created only for scalar outputs',
                                  'got 2 tensors and 1 gradients',
                                  'One of the differentiated Tensors does not require grad',
                                  '`inputs` argument to `grad()` cannot be empty.'],
 'test_grad_with_respect_to_non_leaf_and_multiple_outputs': ([4.71828, 9.38906, 22.08554],
                                                             [12.82562, 69.37627, 443.59985]),
 'test_hooks_match_torch': [('pre', [[1.0, 1.0]]),
                            ('post', [[1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0]]),
                            ('y1', [7.0, 13.0]),
                            ('y2', [7.0, 13.0]),
                            ('x', [24.0, 42.0]),
                            ('grads', [240.0, 420.0], [8.0, 14.0], True),
                            ('after remove', [1.0, 1.0]),
                            "hook '<lambda>' has changed the size of value",
                            "hook '<lambda>' has changed the type of value (was cgrad.FloatTensor got "
                            'cgrad.DoubleTensor)'],
 'test_inference_mode_matches_torch': [(True, True, False),
                                       'AddBackward0',
                                       'Inference tensors cannot be saved for backward. Please do not use '
                                       'Tensors created in inference mode in computation tracked by '
                                       'autograd. To work around this, you can make a clone to get a normal '
                                       'tensor and use it in autograd, or use `cgrad.no_grad()` instead of '
                                       '`cgrad.inference_mode()`.',
                                       'Inference tensors cannot be saved for backward. Please do not use '
                                       'Tensors created in inference mode in computation tracked by '
                                       'autograd. To work around this, you can make a clone to get a normal '
                                       'tensor and use it in autograd, or use `cgrad.no_grad()` instead of '
                                       '`cgrad.inference_mode()`.',
                                       'Setting requires_grad=True on inference tensor outside InferenceMode '
                                       'is not allowed.',
                                       'Inplace update to inference tensor outside InferenceMode is not '
                                       'allowed.You can make a clone to get a normal tensor before doing '
                                       'inplace update.See https://github.com/pycgrad/rfcs/pull/17 for more '
                                       'details.',
                                       'False',
                                       True,
                                       (False, True)],
 'test_next_functions_and_accumulate_grad_variable': ('SumBackward0',
                                                      'AddBackward0',
                                                      [('AccumulateGrad', 0), (None, 0)],
                                                      'AccumulateGrad',
                                                      True,
                                                      True,
                                                      False),
 'test_version_counter': [0, (1, 1), 3],
 ('test_double_and_triple_backward', 'abs'): ([0.54, 0.28, 1.1, 1.04],
                                              [1.8, -0.4, 1.0, 2.6],
                                              [0.0, 0.0, 0.0, 0.0]),
 ('test_double_and_triple_backward', 'cos'): ([-0.29552, 0.64422, -0.89121, -0.38942],
                                              [-0.95534, -0.76484, -0.4536, -0.92106],
                                              [0.29552, -0.64422, 0.89121, 0.38942]),
 ('test_double_and_triple_backward', 'div'): ([0.55249, 0.96154, 0.8, 0.37175], None, None),
 ('test_double_and_triple_backward', 'exp*log'): ([0.85937, -0.26856, 5.37285, 1.25026],
                                                  [3.6702, -0.507, 8.10509, 4.14167],
                                                  [4.90898, 0.53774, 8.38692, 4.55272]),
 ('test_double_and_triple_backward', 'matmul_mv'): ([0.234, 0.052, 1.926, 0.428],
                                                    [1.98, 0.44, 1.98, 0.44],
                                                    [0.0, 0.0, 0.0, 0.0]),
 ('test_double_and_triple_backward', 'mean_sq'): ([0.05, -1.95, 1.65, 0.25],
                                                  [0.0, 0.0, 0.0, 0.0],
                                                  [0.0, 0.0, 0.0, 0.0]),
 ('test_double_and_triple_backward', 'mm'): ([0.776, -2.83, 1.718, 1.134],
                                             [1.32, 3.5, 1.32, 3.5],
                                             [0.0, 0.0, 0.0, 0.0]),
 ('test_double_and_triple_backward', 'mul'): ([0.54, -0.28, -1.1, 1.04], [1.8, 0.4, -1.0, 2.6], None),
 ('test_double_and_triple_backward', 'pow_tt'): ([0.70892, 0.03816, 0.28522, 1.47006],
                                                 [0.42062, 0.0015, 0.06365, 1.45468],
                                                 [0.24957, 6e-05, 0.0142, 1.43947]),
 ('test_double_and_triple_backward', 'reciprocal'): ([-0.50501, 0.6306, -0.45044, -0.59453],
                                                     [-1.12739, 0.28416, 0.48731, -0.66628],
                                                     [4.6416, -1.73834, -0.23241, 4.45368]),
 ('test_double_and_triple_backward', 'relu_sq'): ([0.486, 0.0, -0.0, 1.352],
                                                  [1.62, 0.0, -0.0, 3.38],
                                                  [0.0, 0.0, -0.0, 0.0]),
 ('test_double_and_triple_backward', 'rpow'): ([0.85336, 0.42668, 1.48579, 0.91461],
                                               [0.59151, 0.29575, 1.02987, 0.63396],
                                               [0.41, 0.205, 0.71385, 0.43943]),
 ('test_double_and_triple_backward', 'sigmoid'): ([0.24446, 0.22171, 0.18737, 0.24026],
                                                  [-0.0364, 0.07458, -0.09378, -0.04742],
                                                  [-0.1141, -0.07323, -0.02327, -0.10609]),
 ('test_double_and_triple_backward', 'sin'): ([0.95534, 0.76484, 0.4536, 0.92106],
                                              [-0.29552, 0.64422, -0.89121, -0.38942],
                                              [-0.95534, -0.76484, -0.4536, -0.92106]),
 ('test_double_and_triple_backward', 'sqrt'): ([0.28735, -0.57346, 0.73994, 0.37139],
                                               [0.87874, 0.54982, 0.30438, 0.80041],
                                               [-0.72556, 0.77491, -0.4545, -0.82801]),
 ('test_double_and_triple_backward', 'tanh'): ([0.91514, 0.63474, 0.3592, 0.85564],
                                               [-0.53318, 0.76723, -0.57508, -0.6502],
                                               [-1.36431, 0.12159, 0.66265, -0.97015]),
 ('test_double_and_triple_backward', 'x**3'): ([0.27, 1.47, 3.63, 0.48],
                                               [1.8, -4.2, 6.6, 2.4],
                                               [6.0, 6.0, 6.0, 6.0])}
