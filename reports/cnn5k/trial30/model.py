"""Exported network '10s|Pn|T6|12|Pn|14|CR bn:pre drop:0.02': needs only torch.

    import torch
    from model import Net
    net = Net()
    net.load_state_dict(torch.load("weights.pt"))
    net.eval()  # input: (N, 1, 28, 28) normalised with mean 0.1307, std 0.3081
"""

from collections import OrderedDict

from torch import nn

SPEC = '{"blocks": [[10], [12], [14]], "transitions": [{"pool": "max", "pool_bn": false, "width": 6}, {"pool": "max", "pool_bn": false, "width": 0}], "padding": [1, 0, 0], "bn": "before_relu", "dropout": 0.02, "dropout_at": "every_conv", "head": "conv_reduce", "bias": true, "in_channels": 1, "input_size": 28, "classes": 10}'


class Net(nn.Sequential):
    def __init__(self):
        super().__init__(OrderedDict([
            ('conv1', nn.Conv2d(1, 10, 3, padding=1, bias=True)),
            ('bn1', nn.BatchNorm2d(10)),
            ('relu1', nn.ReLU()),
            ('drop1', nn.Dropout(0.02)),
            ('pool1', nn.MaxPool2d(2)),
            ('pool1_drop', nn.Dropout(0.02)),
            ('trans1', nn.Conv2d(10, 6, 1, padding=0, bias=True)),
            ('trans1_bn', nn.BatchNorm2d(6)),
            ('trans1_relu', nn.ReLU()),
            ('trans1_drop', nn.Dropout(0.02)),
            ('conv2', nn.Conv2d(6, 12, 3, padding=0, bias=True)),
            ('bn2', nn.BatchNorm2d(12)),
            ('relu2', nn.ReLU()),
            ('drop2', nn.Dropout(0.02)),
            ('pool2', nn.MaxPool2d(2)),
            ('pool2_drop', nn.Dropout(0.02)),
            ('conv3', nn.Conv2d(12, 14, 3, padding=0, bias=True)),
            ('bn3', nn.BatchNorm2d(14)),
            ('relu3', nn.ReLU()),
            ('drop3', nn.Dropout(0.02)),
            ('head', nn.Conv2d(14, 10, 4, padding=0, bias=True)),
            ('flatten', nn.Flatten()),
            ('log_softmax', nn.LogSoftmax(dim=1)),
        ]))
