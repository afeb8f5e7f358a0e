"""The network: torchvision's ResNet-18 with a two-class head, and its checkpoints."""
import torch
import torchvision

from dataset import LABELS

# Global pooling before the classifier. 'avg' is torchvision's; 'max' keeps the strongest
# response of the 7x7 feature map, so a leak in one cell is not averaged away by 48 cells of
# background (the multiple-instance view of a small anomaly). No weights differ between them:
# an ImageNet state dict loads into either.
POOLS = ('avg', 'max')


def build_model(pool='avg', pretrained=None):
    if pretrained:
        model = torchvision.models.resnet18(num_classes=1000)
        model.load_state_dict(torch.load(pretrained, map_location='cpu'))
        model.fc = torch.nn.Linear(model.fc.in_features, len(LABELS))
    else:
        model = torchvision.models.resnet18(num_classes=len(LABELS))
    if pool == 'max':
        # torchvision's forward calls self.avgpool, so the attribute keeps its name.
        model.avgpool = torch.nn.AdaptiveMaxPool2d(1)
    elif pool != 'avg':
        raise ValueError(f'pool must be one of {POOLS}, not {pool!r}')
    return model


def load_checkpoint(path):
    """A train.py checkpoint's model (in eval mode) and the whole saved dict."""
    state = torch.load(path, map_location='cpu')
    model = build_model(state.get('args', {}).get('pool', 'avg'))
    model.load_state_dict(state['model'])
    model.eval()
    return model, state
