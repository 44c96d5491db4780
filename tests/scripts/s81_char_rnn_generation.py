# "NLP From Scratch": unicodeToAscii, categoryFromOutput with topk, randomTrainingExample-style tensors, and the name generator (category + input + hidden cat, dropout, multinomial-free greedy sampling, NLLLoss summed over steps).
import numpy as np
import string
import unicodedata
import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1  # Plus EOS marker


def unicodeToAscii(s):
    return ''.join(
        c for c in unicodedata.normalize('NFD', s)
        if unicodedata.category(c) != 'Mn'
        and c in all_letters
    )


print(unicodeToAscii("O'Néàl"), unicodeToAscii("Ślusàrski"), n_letters)
category_lines = {
    "Czech": ["Abl", "Adsit", "Ajdrna"],
    "German": ["Abbing", "Abel", "Abeln"],
    "Spanish": ["Abana", "Abano", "Abarca"],
}
all_categories = list(category_lines.keys())
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def letterToTensor(letter):
    tensor = torch.zeros(1, n_letters)
    tensor[0][letterToIndex(letter)] = 1
    return tensor


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


print(letterToTensor('J').nonzero())
print(lineToTensor('Jones').size(), lineToTensor('Jones').sum(dim=2).flatten())


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


out = torch.tensor([[-2.0, -0.5, -1.0]])
print(categoryFromOutput(out), out.topk(2), out.topk(1, largest=False))


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories)
    tensor[0][li] = 1
    return tensor


def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)  # EOS
    return torch.LongTensor(letter_indexes)


print(targetTensor("Abel"), targetTensor("Abel").dtype)
rnn = RNN(n_letters, 32, n_letters)
rng = np.random.RandomState(0)
with torch.no_grad():
    for p in rnn.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.15, 0.15, size=tuple(p.shape)).astype(np.float32)))
print(rnn)
criterion = nn.NLLLoss()
learning_rate = 0.0005


def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    loss = torch.Tensor([0])
    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])
        loss += l
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item() / input_line_tensor.size(0)


rnn.eval()   # dropout off: the losses below are deterministic
examples = [("German", "Abel"), ("Czech", "Adsit"), ("Spanish", "Abarca"), ("German", "Abeln")]
for category, line in examples:
    output, loss = train(categoryTensor(category), inputTensor(line), targetTensor(line))
    print(category, line, output.shape, round(loss, 5))
t = targetTensor("Abel")
t.unsqueeze_(-1)
print(t.shape, t[0])
loss = torch.Tensor([0])
print(loss, loss.dtype, loss.shape)
rnn.train()
torch.manual_seed(0)
output, loss = train(categoryTensor("Czech"), inputTensor("Ajdrna"), targetTensor("Ajdrna"))
print(output.shape, output.dtype, np.isfinite(loss))

max_length = 8


def sample(category, start_letter='A'):
    with torch.no_grad():
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for i in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = inputTensor(letter)
        return output_name


rnn.eval()
print(sample("German", "A"), sample("Spanish", "B"), sample("Czech", "C"))
with torch.no_grad():
    output, hidden = rnn(categoryTensor("German"), inputTensor("A")[0], rnn.initHidden())
    probs = output.exp()
    torch.manual_seed(1)
    draw = torch.multinomial(probs, 3)
    print(draw.shape, draw.dtype, bool(((draw >= 0) & (draw < n_letters)).all()))
    print(round(probs.sum().item(), 4), output.argmax(1), output.topk(3).indices)

# the classification half: an nn.RNN over a batch of one name, last output through a Linear and LogSoftmax
class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(CharRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


clf = CharRNN(n_letters, 16, n_categories)
with torch.no_grad():
    for p in clf.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, size=tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.SGD(clf.parameters(), lr=0.1)
names = [(line, all_categories.index(cat)) for cat, lines in category_lines.items() for line in lines]
for epoch in range(3):
    total = 0.0
    for line, label in names:
        output = clf(lineToTensor(line))
        loss = criterion(output, torch.tensor([label], dtype=torch.long))
        loss.backward()
        nn.utils.clip_grad_norm_(clf.parameters(), 3)
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item()
    print(epoch, round(total / len(names), 5))
confusion = torch.zeros(n_categories, n_categories)
clf.eval()
with torch.no_grad():
    for line, label in names:
        output = clf(lineToTensor(line))
        guess, guess_i = categoryFromOutput(output)
        confusion[label][guess_i] += 1
for i in range(n_categories):
    denom = confusion[i].sum()
    if denom > 0:
        confusion[i] = confusion[i] / denom
print(confusion)
