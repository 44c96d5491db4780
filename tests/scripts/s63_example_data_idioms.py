# Data-handling lines of pytorch/examples: torch.save of a numpy array and torch.load's weights_only default, legacy FloatTensor/LongTensor from numpy, inf masking, np.unique labels.
import io
import pickle
import numpy as np
import torch

np.random.seed(2)
T, L, N = 20, 30, 4
x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
buffer = io.BytesIO()
torch.save(data, buffer)
buffer.seek(0)
try:
    torch.load(buffer)
except pickle.UnpicklingError as e:
    print(type(e).__name__, str(e).splitlines()[0])
buffer.seek(0)
loaded = torch.load(buffer, weights_only=False)
print(type(loaded).__name__, loaded.dtype, loaded.shape, np.array_equal(loaded, data))
content = np.array([["31336", "0", "1", "0", "Neural_Networks"],
                    ["1061127", "1", "0", "0", "Rule_Learning"],
                    ["1106406", "0", "0", "0", "Reinforcement_Learning"],
                    ["13195", "1", "1", "1", "Neural_Networks"]])
features = torch.FloatTensor(content[:, 1:-1].astype(np.int32))
print(features, features.dtype, features.type())
scale_vector = torch.sum(features, dim=1)
scale_vector = 1 / scale_vector
print(scale_vector)
scale_vector[scale_vector == float('inf')] = 0
print(scale_vector, torch.diag(scale_vector) @ features)
classes, labels = np.unique(content[:, -1], return_inverse=True)
labels = torch.LongTensor(labels)
print(classes, labels, labels.dtype, labels.max().item() + 1)
idx = content[:, 0].astype(np.int32)
idx_map = {id: pos for pos, id in enumerate(idx)}
cites = np.array([[31336, 1061127], [1106406, 13195], [13195, 31336]], dtype=np.int32)
edges = np.array(list(map(lambda edge: [idx_map[edge[0]], idx_map[edge[1]]], cites)), dtype=np.int32)
e = torch.from_numpy(edges.T)
print(e, e.dtype)
adj = torch.zeros(4, 4)
adj[e[0].long(), e[1].long()] = 1
adj = torch.eye(4) + adj
degree_mat = torch.sum(adj, dim=1)
degree_mat = torch.sqrt(1 / degree_mat)
degree_mat[degree_mat == float('inf')] = 0
degree_mat = torch.diag(degree_mat)
print((degree_mat @ adj @ degree_mat).round(decimals=4))
print(torch.LongTensor([1, 2]).dtype, torch.FloatTensor(2, 3).shape, torch.Tensor(np.array([1.5, 2])).dtype, torch.IntTensor(np.array([1, 2])))
print(torch.ByteTensor([1, 0]).dtype, torch.DoubleTensor([[1]]).dtype, torch.BoolTensor([True]))
try:
    torch.LongTensor(np.array([1.5]))
except TypeError as e:
    print(type(e).__name__, e)
print(torch.tensor(data[:2, :3]).dtype, torch.from_numpy(data).requires_grad, torch.as_tensor(data).dtype)
idx = torch.randperm(10)
idx_test, idx_val, idx_train = idx[:3], idx[3:5], idx[5:]
print(idx_test.shape, idx_val.shape, idx_train.shape, idx.dtype)
