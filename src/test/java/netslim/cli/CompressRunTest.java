package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The report's timing plan: rows that are the same model are timed once. */
class CompressRunTest {
    record Row(String name, Object model) {
    }

    @Test
    void firstOfEachKeepsTheFirstRowOfEveryModelByIdentity() {
        Object a = new Object(), b = new Object();
        String c1 = new String("same text"), c2 = new String("same text"); // equal, not the same object
        List<Row> rows = List.of(new Row("baseline", a), new Row("tucker", b), new Row("prune+tucker", b),
                new Row("prune", c1), new Row("other", c2), new Row("again", a));
        assertEquals(List.of("baseline", "tucker", "prune", "other"),
                CompressRun.firstOfEach(rows, Row::model).stream().map(Row::name).toList());
        assertEquals(List.of(), CompressRun.firstOfEach(List.<Row>of(), Row::model));
    }
}
