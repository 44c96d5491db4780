# The knowledge distillation tutorial reduced: teacher/student CNNs, soft-target loss with temperature (KL by hand), CosineEmbeddingLoss on pooled hidden representations (avg_pool1d), a regressor's MSE on feature maps.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class DeepNN(nn.Module):
    def __init__(self, num_classes=10):
        super(DeepNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(8 * 4 * 4, 16),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(16, num_classes)
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


class LightNN(nn.Module):
    def __init__(self, num_classes=10):
        super(LightNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(4 * 4 * 4, 8),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(8, num_classes)
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


def numpy_init(model, seed):
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, size=tuple(p.shape)).astype(np.float32)))


rng = np.random.RandomState(42)
inputs = torch.from_numpy(rng.randn(6, 3, 8, 8).astype(np.float32))
labels = torch.from_numpy(rng.randint(0, 10, 6)).long()
teacher = DeepNN(num_classes=10)
student = LightNN(num_classes=10)
numpy_init(teacher, 0)
numpy_init(student, 1)
total_params_deep = "{:,}".format(sum(p.numel() for p in teacher.parameters()))
print(f"DeepNN parameters: {total_params_deep}")
total_params_light = "{:,}".format(sum(p.numel() for p in student.parameters()))
print(f"LightNN parameters: {total_params_light}")
teacher.eval()
student.train()
student.classifier[2].p = 0.0     # dropout off: deterministic losses
T = 2
soft_target_loss_weight = 0.25
ce_loss_weight = 0.75
ce_loss = nn.CrossEntropyLoss()
optimizer = optim.Adam(student.parameters(), lr=0.001)
for epoch in range(3):
    optimizer.zero_grad()
    with torch.no_grad():
        teacher_logits = teacher(inputs)
    student_logits = student(inputs)
    soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
    soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)
    soft_targets_loss = torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0] * (T**2)
    label_loss = ce_loss(student_logits, labels)
    loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss
    loss.backward()
    optimizer.step()
    kl = nn.KLDivLoss(reduction="batchmean")(soft_prob, soft_targets) * T ** 2
    print(epoch, round(loss.item(), 5), round(soft_targets_loss.item(), 5), round(kl.item(), 5))


class ModifiedDeepNNCosine(DeepNN):
    def forward(self, x):
        x = self.features(x)
        flattened_conv_output = torch.flatten(x, 1)
        x = self.classifier(flattened_conv_output)
        flattened_conv_output_after_pooling = torch.nn.functional.avg_pool1d(flattened_conv_output, 2)
        return x, flattened_conv_output_after_pooling


class ModifiedLightNNCosine(LightNN):
    def forward(self, x):
        x = self.features(x)
        flattened_conv_output = torch.flatten(x, 1)
        x = self.classifier(flattened_conv_output)
        return x, flattened_conv_output


modified_teacher = ModifiedDeepNNCosine(num_classes=10)
modified_teacher.load_state_dict(teacher.state_dict())
modified_student = ModifiedLightNNCosine(num_classes=10)
modified_student.load_state_dict(student.state_dict())
modified_student.classifier[2].p = 0.0
logits, hidden_representation = modified_student(inputs)
print("Student logits shape:", logits.shape)
print("Student hidden representation shape:", hidden_representation.shape)
logits, hidden_representation = modified_teacher(inputs)
print("Teacher logits shape:", logits.shape)
print("Teacher hidden representation shape:", hidden_representation.shape)
cosine_loss = nn.CosineEmbeddingLoss()
optimizer = optim.Adam(modified_student.parameters(), lr=0.001)
modified_teacher.eval()
for epoch in range(2):
    optimizer.zero_grad()
    with torch.no_grad():
        _, teacher_hidden_representation = modified_teacher(inputs)
    student_logits, student_hidden_representation = modified_student(inputs)
    hidden_rep_loss = cosine_loss(student_hidden_representation, teacher_hidden_representation,
                                  target=torch.ones(inputs.size(0)))
    label_loss = ce_loss(student_logits, labels)
    loss = 0.25 * hidden_rep_loss + 0.75 * label_loss
    loss.backward()
    optimizer.step()
    print(epoch, round(hidden_rep_loss.item(), 5), round(loss.item(), 5))


class ModifiedDeepNNRegressor(DeepNN):
    def forward(self, x):
        x = self.features(x)
        conv_feature_map = x
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x, conv_feature_map


class ModifiedLightNNRegressor(LightNN):
    def __init__(self, num_classes=10):
        super().__init__(num_classes)
        self.regressor = nn.Sequential(nn.Conv2d(4, 8, kernel_size=3, padding=1))

    def forward(self, x):
        x = self.features(x)
        regressor_output = self.regressor(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x, regressor_output


teacher_r = ModifiedDeepNNRegressor(num_classes=10)
teacher_r.load_state_dict(teacher.state_dict())
student_r = ModifiedLightNNRegressor(num_classes=10)
missing = student_r.load_state_dict(student.state_dict(), strict=False)
print(missing)
numpy_init(student_r.regressor, 7)
student_r.classifier[2].p = 0.0
mse_loss = nn.MSELoss()
optimizer = optim.Adam(student_r.parameters(), lr=0.001)
_, teacher_feature_map = teacher_r(inputs)
student_logits, regressor_feature_map = student_r(inputs)
print(teacher_feature_map.shape, regressor_feature_map.shape)
hidden_rep_loss = mse_loss(regressor_feature_map, teacher_feature_map.detach())
label_loss = ce_loss(student_logits, labels)
loss = 0.25 * hidden_rep_loss + 0.75 * label_loss
loss.backward()
optimizer.step()
print(round(hidden_rep_loss.item(), 5), round(label_loss.item(), 5))
with torch.no_grad():
    outputs = student(inputs)
    _, predicted = torch.max(outputs.data, 1)
    correct = (predicted == labels).sum().item()
    print(f"Accuracy: {100 * correct / labels.size(0):.2f}%", predicted)
