# "Deep Learning with PyTorch" (Guthrie): tensor basics with views/cat/autograd, affine maps and non-linearities, softmax, and the bag-of-words logistic-regression classifier with NLLLoss.
import numpy as np
import torch
import torch.autograd as autograd
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

V_data = [1., 2., 3.]
V = torch.tensor(V_data)
print(V)
M_data = [[1., 2., 3.], [4., 5., 6]]
M = torch.tensor(M_data)
print(M)
T_data = [[[1., 2.], [3., 4.]],
          [[5., 6.], [7., 8.]]]
T = torch.tensor(T_data)
print(T)
print(V[0], V[0].item(), M[0], T[0])
x = torch.tensor([1., 2., 3.])
y = torch.tensor([4., 5., 6.])
z = x + y
print(z)
x_1 = torch.from_numpy(np.arange(10, dtype=np.float32).reshape(2, 5))
y_1 = torch.from_numpy(np.arange(15, dtype=np.float32).reshape(3, 5))
z_1 = torch.cat([x_1, y_1])
print(z_1)
x_2 = torch.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
y_2 = torch.from_numpy(np.arange(10, dtype=np.float32).reshape(2, 5))
z_2 = torch.cat([x_2, y_2], 1)
print(z_2)
try:
    torch.cat([x_1, x_2])
except RuntimeError as e:
    print("RuntimeError:", e)
x = torch.from_numpy(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
print(x)
print(x.view(2, 12))
print(x.view(2, -1))
try:
    x.view(5, -1)
except RuntimeError as e:
    print("RuntimeError:", e)
x = torch.tensor([1., 2., 3], requires_grad=True)
y = torch.tensor([4., 5., 6], requires_grad=True)
z = x + y
print(z)
print(z.grad_fn)
s = z.sum()
print(s)
print(s.grad_fn)
s.backward()
print(x.grad)
x = torch.from_numpy(np.ones((2, 2), dtype=np.float32))
y = torch.from_numpy(np.full((2, 2), 2.0, dtype=np.float32))
print(x.requires_grad, y.requires_grad)
z = x + y
print(z.grad_fn)
x = x.requires_grad_()
y = y.requires_grad_()
z = x + y
print(z.grad_fn)
print(z.requires_grad)
new_z = z.detach()
print(new_z.grad_fn)
print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)

# affine maps, non-linearities, softmax
lin = nn.Linear(5, 3)
with torch.no_grad():
    lin.weight.copy_(torch.from_numpy(np.linspace(-1, 1, 15, dtype=np.float32).reshape(3, 5)))
    lin.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
data = torch.from_numpy(np.linspace(-2, 2, 10, dtype=np.float32).reshape(2, 5))
print(lin(data))
data = torch.tensor([[-0.5, 1.2], [0.3, -2.0]])
print(data)
print(F.relu(data))
data = torch.tensor([0.3, -1.2, 2.2, 0.1, -0.4])
print(data)
print(F.softmax(data, dim=0))
print(F.log_softmax(data, dim=0))

# the bag-of-words classifier
data = [("me gusta comer en la cafeteria".split(), "SPANISH"),
        ("Give it to me".split(), "ENGLISH"),
        ("No creo que sea una buena idea".split(), "SPANISH"),
        ("No it is not a good idea to get lost at sea".split(), "ENGLISH")]
test_data = [("Yo creo que si".split(), "SPANISH"),
             ("it is lost on me".split(), "ENGLISH")]
word_to_ix = {}
for sent, _ in data + test_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
print(len(word_to_ix), word_to_ix["creo"])
VOCAB_SIZE = len(word_to_ix)
NUM_LABELS = 2


class BoWClassifier(nn.Module):

    def __init__(self, num_labels, vocab_size):
        super(BoWClassifier, self).__init__()
        self.linear = nn.Linear(vocab_size, num_labels)

    def forward(self, bow_vec):
        return F.log_softmax(self.linear(bow_vec), dim=1)


def make_bow_vector(sentence, word_to_ix):
    vec = torch.zeros(len(word_to_ix))
    for word in sentence:
        vec[word_to_ix[word]] += 1
    return vec.view(1, -1)


def make_target(label, label_to_ix):
    return torch.LongTensor([label_to_ix[label]])


model = BoWClassifier(NUM_LABELS, VOCAB_SIZE)
rng = np.random.RandomState(0)
with torch.no_grad():
    model.linear.weight.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, (NUM_LABELS, VOCAB_SIZE)).astype(np.float32)))
    model.linear.bias.zero_()
for param in model.parameters():
    print(param.shape)
with torch.no_grad():
    sample = data[0]
    bow_vector = make_bow_vector(sample[0], word_to_ix)
    print(bow_vector)
    log_probs = model(bow_vector)
    print(log_probs)
label_to_ix = {"SPANISH": 0, "ENGLISH": 1}
with torch.no_grad():
    for instance, label in test_data:
        bow_vec = make_bow_vector(instance, word_to_ix)
        log_probs = model(bow_vec)
        print(log_probs)
print(next(model.parameters())[:, word_to_ix["creo"]])
loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    for instance, label in data:
        model.zero_grad()
        bow_vec = make_bow_vector(instance, word_to_ix)
        target = make_target(label, label_to_ix)
        log_probs = model(bow_vec)
        loss = loss_function(log_probs, target)
        loss.backward()
        optimizer.step()
    if epoch % 25 == 0:
        print(epoch, round(loss.item(), 5))
with torch.no_grad():
    for instance, label in test_data:
        bow_vec = make_bow_vector(instance, word_to_ix)
        log_probs = model(bow_vec)
        print(log_probs, log_probs.argmax(1).item() == label_to_ix[label])
print(next(model.parameters())[:, word_to_ix["creo"]])
print(model.linear.weight.grad[:, :4], type(make_target("ENGLISH", label_to_ix)).__name__)
v = autograd.Variable(torch.tensor([1.0]), requires_grad=True)
print(v, v.data, type(v).__name__)
