# pytorch/examples time_sequence_prediction: stacked LSTMCells in float64, LBFGS with a closure, future predictions.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.RandomState(2)
T, L, N = 20, 40, 6
x = np.empty((N, L), np.int64)
x[:] = np.array(range(L)) + rng.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype("float64")
print(data.shape, data.dtype)


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 12)
        self.lstm2 = nn.LSTMCell(12, 12)
        self.linear = nn.Linear(12, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


input = torch.from_numpy(data[2:, :-1])
target = torch.from_numpy(data[2:, 1:])
test_input = torch.from_numpy(data[:2, :-1])
test_target = torch.from_numpy(data[:2, 1:])
seq = Sequence()
seq.double()
with torch.no_grad():
    for name, p in seq.named_parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape)))
print([(n, p.dtype, tuple(p.shape)) for n, p in seq.named_parameters()])
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=4)
print(type(optimizer).__name__, optimizer.defaults["history_size"], optimizer.defaults["line_search_fn"])
for i in range(3):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        print("loss:", f"{loss.item():.6f}")
        loss.backward()
        return loss
    returned = optimizer.step(closure)
    print("step", i, type(returned).__name__, returned.dtype, f"{returned.item():.6f}")
    with torch.no_grad():
        future = 10
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        print("test loss:", f"{loss.item():.6f}", pred.shape, pred.dtype)
        y = pred.detach().numpy()
    print(np.round(y[:, -3:], 4))
state = optimizer.state_dict()
print(sorted(state["state"][0].keys()), state["param_groups"][0]["params"])
print(state["state"][0]["func_evals"], state["state"][0]["n_iter"])
opt2 = optim.LBFGS([torch.zeros(3, dtype=torch.float64, requires_grad=True)], line_search_fn="strong_wolfe")
w = opt2.param_groups[0]["params"][0]


def rosen_closure():
    opt2.zero_grad()
    a = w - torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    loss = (a ** 2).sum() + (w[0] * w[1]) ** 2
    loss.backward()
    return loss


for _ in range(3):
    print(f"{opt2.step(rosen_closure).item():.6f}")
print(w.detach().numpy().round(4))
