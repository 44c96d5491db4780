# The char-RNN name classifier reduced: letter one-hots, an nn.RNN module and a hand-written RNN cell.
import numpy as np
import string
import torch
import torch.nn as nn
import torch.nn.functional as F

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


print(lineToTensor('J').shape, lineToTensor('Jones').size())
print(lineToTensor('ab')[1, 0, :5])


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size, hidden_size)
        self.h2h = nn.Linear(hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        hidden = F.tanh(self.i2h(input) + self.h2h(hidden))
        output = self.h2o(hidden)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


n_hidden = 16
categories = ["English", "French", "Greek"]
rnn = RNN(n_letters, n_hidden, len(categories))
print(rnn)
rng = np.random.RandomState(1)
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, size=p.shape).astype(np.float32)))
criterion = nn.NLLLoss()
learning_rate = 0.05
data = [("Smith", 0), ("Dubois", 1), ("Papadopoulos", 2), ("Jones", 0), ("Martin", 1)]


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


for epoch in range(5):
    total = 0.0
    for name, cat in data:
        output, loss = train(torch.tensor([cat], dtype=torch.long), lineToTensor(name))
        total += loss
    print(epoch, f"{total:.4f}")


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return categories[category_i], category_i


print(categoryFromOutput(output))
rnn2 = nn.RNN(n_letters, n_hidden, num_layers=1, nonlinearity='tanh')
print(rnn2)
with torch.no_grad():
    for p in rnn2.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, size=p.shape).astype(np.float32)))
out, h = rnn2(lineToTensor("Jones"))
print(out.shape, h.shape, out[-1, 0, :3], torch.allclose(out[-1], h[0]))
lstm = nn.LSTM(4, 3, num_layers=2, batch_first=True, dropout=0.0)
print(lstm, [n for n, _ in lstm.named_parameters()][:4])
o, (hn, cn) = lstm(torch.zeros(2, 5, 4))
print(o.shape, hn.shape, cn.shape)
