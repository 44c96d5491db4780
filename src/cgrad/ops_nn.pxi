# Neural-net functions: softmax, log_softmax, losses, linear.
