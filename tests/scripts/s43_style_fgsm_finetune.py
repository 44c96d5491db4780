# Tutorial fragments: gram matrices and LBFGS on an input image (style transfer), FGSM, fine-tuning a replaced head, weights_init by class name.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.RandomState(15)


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super(StyleLoss, self).__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        self.loss = F.mse_loss(gram_matrix(input), self.target)
        return input


style = torch.from_numpy(rng.rand(1, 3, 8, 8).astype(np.float32))
input_img = torch.from_numpy(rng.rand(1, 3, 8, 8).astype(np.float32))
sl = StyleLoss(style)
input_img.requires_grad_(True)
optimizer = torch.optim.LBFGS([input_img])
run = [0]
while run[0] <= 20:
    def closure():
        with torch.no_grad():
            input_img.clamp_(0, 1)
        optimizer.zero_grad()
        sl(input_img)
        loss = sl.loss * 1e4
        loss.backward()
        run[0] += 1
        return loss
    optimizer.step(closure)
with torch.no_grad():
    input_img.clamp_(0, 1)
print(f"{sl.loss.item():.6f}", input_img.shape, bool(input_img.min() >= 0))


def fgsm_attack(image, epsilon, data_grad):
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    return perturbed_image


model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
data = torch.from_numpy(rng.rand(2, 1, 4, 4).astype(np.float32))
target = torch.tensor([0, 2])
data.requires_grad = True
output = model(data)
init_pred = output.max(1, keepdim=True)[1]
loss = F.nll_loss(F.log_softmax(output, dim=1), target)
model.zero_grad()
loss.backward()
data_grad = data.grad.data
perturbed = fgsm_attack(data, 0.1, data_grad)
final_pred = model(perturbed).max(1, keepdim=True)[1]
print(init_pred.squeeze().tolist(), final_pred.squeeze().tolist(), (perturbed - data).abs().max().item() <= 0.1 + 1e-6)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.constant_(m.weight.data, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.constant_(m.weight.data, 1.0)
        nn.init.constant_(m.bias.data, 0)


net = Backbone()
net.apply(weights_init)
for param in net.parameters():
    param.requires_grad = False
num_ftrs = net.fc.in_features
net.fc = nn.Linear(num_ftrs, 2)
with torch.no_grad():
    net.fc.weight.fill_(0.1)
    net.fc.bias.zero_()
params_to_update = [p for p in net.parameters() if p.requires_grad]
print(num_ftrs, len(params_to_update), [n for n, p in net.named_parameters() if p.requires_grad])
opt = torch.optim.SGD(params_to_update, lr=0.1, momentum=0.9)
x = torch.from_numpy(rng.rand(4, 3, 6, 6).astype(np.float32))
y = torch.tensor([0, 1, 1, 0])
for _ in range(3):
    opt.zero_grad()
    loss = nn.CrossEntropyLoss()(net(x), y)
    loss.backward()
    opt.step()
print(f"{loss.item():.4f}", net.features[0].weight.grad is None, net.features[1].running_mean.shape)
net.eval()
_, preds = torch.max(net(x), 1)
print(preds, torch.sum(preds == y).item(), preds.dtype)
