package netslim.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code finetune}: {@code train} starting from a model file's weights, with a lower default LR (0.01). */
@Command(name = "finetune", description = "Fine-tune a model file (.nsm or .onnx); like train with --lr 0.01 by default.")
final class FinetuneCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Mixin
    TrainingOptions training;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return new TrainingRun(TrainingRun.Kind.FINETUNE, model, device, training, spec).execute();
    }
}
