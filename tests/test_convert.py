"""PyTorch ResNet state dict -> jaxprior ResNet, checked numerically against torch."""

import numpy as np
import pytest
from flax import nnx

from jaxprior.models import resnet18
from jaxprior.models.convert import load_torch_resnet

torch = pytest.importorskip(
    "torch", reason="torch is not a jaxprior dependency; install it to check the converter "
                    "against a PyTorch forward pass")
nn = torch.nn


class _Block(nn.Module):  # torchvision.models.resnet.BasicBlock, with its attribute names
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                         nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class _TorchResNet18(nn.Module):  # torchvision.models.resnet18's layout and key names
    def __init__(self, width, num_classes):
        super().__init__()
        w = [width * 2**i for i in range(4)]
        self.conv1 = nn.Conv2d(3, w[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = w[0]
        for s in range(4):
            layer = nn.Sequential(_Block(cin, w[s], 1 if s == 0 else 2), _Block(w[s], w[s], 1))
            setattr(self, f"layer{s + 1}", layer)
            cin = w[s]
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        for s in range(1, 5):
            x = getattr(self, f"layer{s}")(x)
        return self.fc(x.mean((2, 3)))


def _randomised(width=8, num_classes=5):
    torch.manual_seed(0)
    net = _TorchResNet18(width, num_classes)
    for m in net.modules():  # non-trivial BatchNorm statistics and affine parameters
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return net.eval()


def test_converted_resnet18_matches_torch():
    net = _randomised()
    model = resnet18(num_classes=5, width=8, stem="imagenet", rngs=nnx.Rngs(1))
    load_torch_resnet(model, net.state_dict())
    model.eval()
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    logits, _ = model(x)
    np.testing.assert_allclose(np.asarray(logits), expected, rtol=1e-4, atol=1e-4)


def test_mismatched_architecture_raises():
    net = _randomised()
    model = resnet18(num_classes=5, width=16, stem="imagenet",
                     rngs=nnx.Rngs(1))
    with pytest.raises(ValueError, match=r"conv1\.weight.*shape"):
        load_torch_resnet(model, net.state_dict())
    state = dict(net.state_dict(), extra=torch.zeros(1))
    with pytest.raises(ValueError, match="unexpected state-dict key 'extra'"):
        load_torch_resnet(resnet18(num_classes=5, width=8, stem="imagenet",
                                   rngs=nnx.Rngs(1)), state)
