/* The parser's tree walks, in C: an optional accelerator of `xinwen.parse`.
 *
 * Walking Lexbor's tree through selectolax's Python objects costs ~1 us a node (a wrapper
 * object per node, a context stack in Python): `_tree.measure` alone was 2.4 ms of the 6.6 ms a
 * corpus page took to extract. This module walks Lexbor's tree itself, from the node pointers
 * selectolax holds, for `_tree.measure` (`measure`), `_tree.lines` (`lines`), `picks`
 * (`select`), and the deep-nesting gate (`many_block_tags`), and gives the same results as
 * their Python twins. `_tree.py` uses it only after `configure` has checked, on a probe page
 * parsed by the selectolax in use, that every structure read here has the layout assumed here,
 * and that the walk measures the probe as the Python walk does; otherwise Python runs.
 * tests/test_walk.py compares every function with its twin, on the corpus and on edge pages.
 *
 * Layouts read (lexbor's source/lexbor/dom/interfaces/node.h and character_data.h, the version
 * selectolax 1.0 bundles; its lexbor.pxd declares the same fields in the same order). Nothing is
 * written into Lexbor's memory; the Lexbor functions called are those selectolax's module
 * exports for attributes (lxb_dom_element_attr_by_name, lxb_dom_attr_value_noi,
 * lxb_dom_element_class_noi, lxb_dom_element_id_noi), found with dlsym.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

typedef struct node_s {
    void *events;
    uintptr_t local_name; /* the tag id for an element */
    uintptr_t prefix;
    uintptr_t ns;
    void *owner_document;
    struct node_s *next;
    struct node_s *prev;
    struct node_s *parent;
    struct node_s *first_child;
    struct node_s *last_child;
    void *user;
    int type;
} node_t;

typedef struct {
    node_t node;
    unsigned char *data;
    size_t length;
} chardata_t;

enum { NODE_ELEMENT = 1, NODE_TEXT = 3 };
/* The kinds of `_tree.py`. */
enum { SKIP = 0, TEXT = 1, INLINE = 2, BLOCK = 3, LINK = 4 };

typedef void *(*attr_by_name_f)(void *element, const unsigned char *name, size_t length);
typedef const unsigned char *(*attr_value_f)(void *attr, size_t *length);
/* lxb_dom_element_class_noi and _id_noi: the value of the attribute the element keeps a pointer
 * to, with no lookup by name (which hashes the name: 4 of them an element were most of `select`). */
typedef const unsigned char *(*element_value_f)(void *element, size_t *length);

/* Set by `configure`. */
static int configured = 0;
static PyTypeObject *node_type = NULL;
static Py_ssize_t node_offset = 0;   /* of LexborNode.node */
static Py_ssize_t parser_offset = 0; /* of LexborNode.parser */
static PyObject *kind_of = NULL;     /* `_tree._kind`, asked once per tag id */
static attr_by_name_f attr_by_name = NULL;
static attr_value_f attr_value = NULL;
static element_value_f class_of = NULL, id_of = NULL;
static Py_ssize_t max_texts = 0;
/* Tag ids below this are Lexbor's static ones (see `tag_answer`). */
#define STATIC_IDS 4096
static signed char static_kind[STATIC_IDS];

/* --- growable arrays ------------------------------------------------------------------- */

typedef struct {
    Py_ssize_t *items;
    Py_ssize_t size, capacity;
} column_t;

static int push(column_t *c, Py_ssize_t value)
{
    if (c->size == c->capacity) {
        Py_ssize_t capacity = c->capacity ? c->capacity * 2 : 256;
        Py_ssize_t *items = PyMem_Realloc(c->items, (size_t)capacity * sizeof(Py_ssize_t));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        c->items = items;
        c->capacity = capacity;
    }
    c->items[c->size++] = value;
    return 0;
}

static PyObject *as_list(const Py_ssize_t *items, Py_ssize_t size)
{
    PyObject *list = PyList_New(size);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *value = PyLong_FromSsize_t(items[i]);
        if (value == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, value);
    }
    return list;
}

/* --- nodes ----------------------------------------------------------------------------- */

static node_t *node_of(PyObject *obj)
{
    return *(node_t **)((char *)obj + node_offset);
}

/* A LexborNode for `node`, as selectolax's LexborNode.new makes one. */
static PyObject *wrap(node_t *node, PyObject *parser)
{
    static PyObject *no_args = NULL;
    if (no_args == NULL && (no_args = PyTuple_New(0)) == NULL)
        return NULL;
    PyObject *obj = node_type->tp_new(node_type, no_args, NULL);
    if (obj == NULL)
        return NULL;
    *(node_t **)((char *)obj + node_offset) = node;
    PyObject **slot = (PyObject **)((char *)obj + parser_offset);
    Py_INCREF(parser);
    Py_XSETREF(*slot, parser);
    return obj;
}

/* What `function` (a Python function of a LexborNode) says of `node`'s tag: an int in
 * 0..`most`. It is asked once per tag: static tag ids are small and the same in every document
 * (`cache`, for the life of the module); custom tags (<o:p>, <foo-bar>) get an id that is an
 * address, valid only within one document (`custom`, a dict for one walk). */
static int tag_answer(node_t *node, PyObject *parser, PyObject *function, signed char *cache,
                      PyObject *custom, long most)
{
    uintptr_t id = node->local_name;
    if (id < STATIC_IDS && cache[id] >= 0)
        return cache[id];
    PyObject *key = NULL;
    if (id >= STATIC_IDS) {
        key = PyLong_FromSize_t((size_t)id);
        if (key == NULL)
            return -1;
        PyObject *known = PyDict_GetItemWithError(custom, key);
        if (known != NULL) {
            Py_DECREF(key);
            return (int)PyLong_AsLong(known);
        }
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return -1;
        }
    }
    PyObject *obj = wrap(node, parser);
    PyObject *answer = obj ? PyObject_CallOneArg(function, obj) : NULL;
    Py_XDECREF(obj);
    long value = answer ? PyLong_AsLong(answer) : -1;
    Py_XDECREF(answer);
    if (value < 0 || value > most) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "%R gave an unknown answer", function);
        Py_XDECREF(key);
        return -1;
    }
    if (key == NULL) {
        cache[id] = (signed char)value;
    } else {
        PyObject *boxed = PyLong_FromLong(value);
        int failed = boxed == NULL || PyDict_SetItem(custom, key, boxed) < 0;
        Py_XDECREF(boxed);
        Py_DECREF(key);
        if (failed)
            return -1;
    }
    return (int)value;
}

static int kind(node_t *node, PyObject *parser, PyObject *custom)
{
    if (node->type == NODE_TEXT)
        return TEXT;
    if (node->type != NODE_ELEMENT)
        return SKIP; /* comments, doctypes, processing instructions */
    return tag_answer(node, parser, kind_of, static_kind, custom, LINK);
}

/* Characters `_tree._SPACE_CHARS` and `_tree._PUNCT`. */
static inline int is_space(Py_UCS4 c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == 0x3000 ||
           c == 0xa0;
}

static inline int is_punct(Py_UCS4 c)
{
    return c == 0xff0c || c == 0x3002 || c == 0xff01 || c == 0xff1f || c == 0xff1b ||
           c == 0xff1a || c == 0x3001;
}

/* --- Nodes: the elements, wrapped only when asked for ---------------------------------- */

/* A page has ~800 elements and the scorers look at a few hundred: wrapping all of them (GC-tracked
 * objects, each collection visiting them) was a third of this module's time. */
typedef struct {
    PyObject_HEAD
    PyObject *parser;
    Py_ssize_t size;
    node_t **items;
    /* node -> index + 1 (0: free), open addressing: `index_of`, and `lines`' lookups, without
     * the dict of ~800 int pairs a page that `measure_python` builds as `by_id`. */
    Py_ssize_t *table;
    size_t mask;
} nodes_t;

static void nodes_dealloc(nodes_t *self)
{
    Py_XDECREF(self->parser);
    PyMem_Free(self->items);
    PyMem_Free(self->table);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static inline size_t slot_of(const node_t *node, size_t mask)
{
    return (size_t)(((uintptr_t)node >> 4) * (uintptr_t)0x9E3779B97F4A7C15ull) & mask;
}

static int nodes_index(nodes_t *self)
{
    size_t capacity = 16;
    while (capacity < (size_t)self->size * 2)
        capacity *= 2;
    self->table = PyMem_Calloc(capacity, sizeof(Py_ssize_t));
    if (self->table == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->mask = capacity - 1;
    for (Py_ssize_t i = 0; i < self->size; i++) {
        size_t at = slot_of(self->items[i], self->mask);
        while (self->table[at] != 0)
            at = (at + 1) & self->mask;
        self->table[at] = i + 1;
    }
    return 0;
}

/* The index of `node` among the elements, or -1. */
static Py_ssize_t nodes_find(const nodes_t *self, const node_t *node)
{
    for (size_t at = slot_of(node, self->mask);; at = (at + 1) & self->mask) {
        Py_ssize_t entry = self->table[at];
        if (entry == 0)
            return -1;
        if (self->items[entry - 1] == node)
            return entry - 1;
    }
}

/* index_of(mem_id): the element's index, or None: what `by_id.get(mem_id)` gives. */
static PyObject *nodes_index_of(nodes_t *self, PyObject *arg)
{
    size_t address = PyLong_AsSize_t(arg);
    if (address == (size_t)-1 && PyErr_Occurred()) {
        PyErr_Clear(); /* a negative or huge int is no node's */
        Py_RETURN_NONE;
    }
    Py_ssize_t index = nodes_find(self, (const node_t *)(uintptr_t)address);
    if (index < 0)
        Py_RETURN_NONE;
    return PyLong_FromSsize_t(index);
}

static Py_ssize_t nodes_length(nodes_t *self)
{
    return self->size;
}

static PyObject *nodes_item(nodes_t *self, Py_ssize_t i)
{
    if (i < 0 || i >= self->size) {
        PyErr_SetString(PyExc_IndexError, "element index out of range");
        return NULL;
    }
    return wrap(self->items[i], self->parser);
}

/* The class or id as text ("" when the element has none, or it has no value), decoded as
 * selectolax decodes it. */
static PyObject *attribute(node_t *node, element_value_f read)
{
    size_t size = 0;
    const unsigned char *value = read(node, &size);
    if (value == NULL)
        size = 0;
    return PyUnicode_DecodeUTF8((const char *)(value ? value : (const unsigned char *)""),
                                (Py_ssize_t)size, "replace");
}

/* names(i): the element's class and id as "class id", what `_tree.names_python` gives (0.1 us,
 * where building `node.attributes` for them took 0.5). */
static PyObject *nodes_names(nodes_t *self, PyObject *arg)
{
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0 || i >= self->size) {
        PyErr_SetString(PyExc_IndexError, "element index out of range");
        return NULL;
    }
    PyObject *names = attribute(self->items[i], class_of);
    PyObject *ident = names ? attribute(self->items[i], id_of) : NULL;
    PyObject *both = ident ? PyUnicode_FromFormat("%U %U", names, ident) : NULL;
    Py_XDECREF(names);
    Py_XDECREF(ident);
    return both;
}

static PyMethodDef nodes_methods[] = {
    {"names", (PyCFunction)nodes_names, METH_O, "names(i) -> the element's 'class id'."},
    {"index_of", (PyCFunction)nodes_index_of, METH_O, "index_of(mem_id) -> index, or None."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods nodes_as_sequence = {
    .sq_length = (lenfunc)nodes_length,
    .sq_item = (ssizeargfunc)nodes_item,
};

static PyTypeObject nodes_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xinwen.parse._walk.Nodes",
    .tp_doc = "The measured elements in document order, as LexborNode views made on access.",
    .tp_basicsize = sizeof(nodes_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_SEQUENCE,
    .tp_dealloc = (destructor)nodes_dealloc,
    .tp_as_sequence = &nodes_as_sequence,
    .tp_methods = nodes_methods,
};

/* --- the walk -------------------------------------------------------------------------- */

typedef struct {
    node_t *node;
    Py_ssize_t index, parent, block;
    int in_link;
} frame_t;

typedef struct {
    column_t nodes, parent, upper, start, end; /* per element */
    column_t size, punct, block, element, linked; /* per text run */
    PyObject *texts; /* list of (str, element, in <a>) */
} walk_t;

static void walk_free(walk_t *w)
{
    column_t *columns[] = {&w->nodes, &w->parent, &w->upper, &w->start, &w->end,
                           &w->size,  &w->punct,  &w->block, &w->element, &w->linked};
    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
        PyMem_Free(columns[i]->items);
    Py_XDECREF(w->texts);
}

/* One text node: its run (if it has any character but spaces), counted as `_tree._count` does. */
static int text_run(walk_t *w, node_t *node, Py_ssize_t parent, Py_ssize_t block, int in_link)
{
    chardata_t *chars = (chardata_t *)node;
    if (chars->data == NULL || chars->length == 0)
        return 0;
    /* As selectolax's text_content: lexbor passes undecodable bytes through, they read as U+FFFD */
    PyObject *content =
        PyUnicode_DecodeUTF8((const char *)chars->data, (Py_ssize_t)chars->length, "replace");
    if (content == NULL)
        return -1;
    int kind = PyUnicode_KIND(content);
    const void *data = PyUnicode_DATA(content);
    Py_ssize_t length = PyUnicode_GET_LENGTH(content), size = 0, punct = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!is_space(c)) {
            size++;
            punct += is_punct(c);
        }
    }
    if (size == 0) {
        Py_DECREF(content);
        return 0;
    }
    int failed = push(&w->size, size) || push(&w->punct, punct) || push(&w->block, block) ||
                 push(&w->element, parent) || push(&w->linked, in_link);
    if (!failed && PyList_GET_SIZE(w->texts) < max_texts) {
        PyObject *run = Py_BuildValue("(NnO)", content, parent, in_link ? Py_True : Py_False);
        content = NULL; /* stolen by "N" */
        failed = run == NULL || PyList_Append(w->texts, run) < 0;
        Py_XDECREF(run);
    }
    Py_XDECREF(content);
    return failed ? -1 : 0;
}

static int walk(walk_t *w, node_t *root, PyObject *parser)
{
    PyObject *custom = PyDict_New();
    if (custom == NULL)
        return -1;
    frame_t *stack = NULL;
    Py_ssize_t depth = 0, capacity = 0;
    Py_ssize_t parent = -1, block = -1;
    int in_link = 0, failed = 0;
    node_t *node = root;
    while (node != NULL) {
        int descend = 0;
        int k = kind(node, parser, custom);
        if (k < 0) {
            failed = 1;
            break;
        }
        if (k == TEXT) {
            if (text_run(w, node, parent, block, in_link) < 0) {
                failed = 1;
                break;
            }
        } else if (k != SKIP) {
            Py_ssize_t index = w->nodes.size, runs = w->size.size;
            if (push(&w->nodes, (Py_ssize_t)(uintptr_t)node) || push(&w->parent, parent) ||
                push(&w->upper, block) || push(&w->start, runs) || push(&w->end, runs)) {
                failed = 1;
                break;
            }
            if (node->first_child != NULL) {
                if (depth == capacity) {
                    capacity = capacity ? capacity * 2 : 64;
                    frame_t *grown = PyMem_Realloc(stack, (size_t)capacity * sizeof(frame_t));
                    if (grown == NULL) {
                        PyErr_NoMemory();
                        failed = 1;
                        break;
                    }
                    stack = grown;
                }
                stack[depth++] = (frame_t){node, index, parent, block, in_link};
                parent = index;
                /* Only <a href> is a link (see `_tree.measure`). */
                if (k == LINK && attr_by_name(node, (const unsigned char *)"href", 4) != NULL)
                    in_link = 1;
                if (k == BLOCK || block < 0)
                    block = index;
                descend = 1;
            }
        }
        if (descend) {
            node = node->first_child;
            continue;
        }
        /* Leave the node: up through every element that ends here, then on to the next. */
        while (node != root && node->next == NULL) {
            node = node->parent;
            if (depth == 0 || stack[depth - 1].node != node) { /* cannot happen in a tree */
                PyErr_SetString(PyExc_RuntimeError, "lexbor tree walk lost its place");
                failed = 1;
                break;
            }
            frame_t *frame = &stack[--depth];
            w->end.items[frame->index] = w->size.size;
            parent = frame->parent;
            block = frame->block;
            in_link = frame->in_link;
        }
        if (failed || node == root)
            break;
        node = node->next;
    }
    PyMem_Free(stack);
    Py_DECREF(custom);
    return failed ? -1 : 0;
}

/* The columns of `_tree.Measured`, from the walk's runs (what `_tree._count` does). */
static PyObject *columns(walk_t *w, PyObject *parser)
{
    Py_ssize_t elements = w->nodes.size, runs = w->size.size;
    PyObject *result = NULL, *nodes = NULL, *by_id = NULL;
    PyObject *text = NULL, *links = NULL, *punct = NULL, *own = NULL, *own_punct = NULL;
    PyObject *parents = NULL, *uppers = NULL, *starts = NULL, *ends = NULL;
    Py_ssize_t *sums = PyMem_Calloc((size_t)(runs + 1) * 3, sizeof(Py_ssize_t));
    Py_ssize_t *mine = PyMem_Calloc((size_t)(elements + 1) * 2, sizeof(Py_ssize_t));
    Py_ssize_t *out = PyMem_Calloc((size_t)(elements + 1) * 3, sizeof(Py_ssize_t));
    if (sums == NULL || mine == NULL || out == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t *chars = sums, *linked = sums + runs + 1, *marks = sums + 2 * (runs + 1);
    for (Py_ssize_t r = 0; r < runs; r++) {
        Py_ssize_t size = w->size.items[r], p = w->punct.items[r];
        chars[r + 1] = chars[r] + size;
        linked[r + 1] = linked[r] + (w->linked.items[r] ? size : 0);
        marks[r + 1] = marks[r] + p;
        Py_ssize_t owner = w->block.items[r];
        if (owner >= 0) {
            mine[owner] += size;
            mine[elements + 1 + owner] += p;
        }
    }
    Py_ssize_t *o_text = out, *o_links = out + elements + 1, *o_punct = out + 2 * (elements + 1);
    for (Py_ssize_t e = 0; e < elements; e++) {
        Py_ssize_t s = w->start.items[e], t = w->end.items[e];
        o_text[e] = chars[t] - chars[s];
        o_links[e] = linked[t] - linked[s];
        o_punct[e] = marks[t] - marks[s];
    }
    if (runs > max_texts) { /* only the first max_texts runs are kept */
        for (Py_ssize_t e = 0; e < elements; e++) {
            if (w->start.items[e] > max_texts)
                w->start.items[e] = max_texts;
            if (w->end.items[e] > max_texts)
                w->end.items[e] = max_texts;
        }
    }
    nodes_t *wrapped = PyObject_New(nodes_t, &nodes_type);
    if (wrapped == NULL)
        goto done;
    wrapped->items = NULL;
    wrapped->table = NULL;
    wrapped->size = 0;
    Py_INCREF(parser);
    wrapped->parser = parser;
    nodes = (PyObject *)wrapped;
    wrapped->items = PyMem_Malloc((size_t)(elements ? elements : 1) * sizeof(node_t *));
    by_id = PyDict_New();
    if (wrapped->items == NULL || by_id == NULL) {
        if (wrapped->items == NULL)
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t e = 0; e < elements; e++)
        wrapped->items[e] = (node_t *)(uintptr_t)w->nodes.items[e];
    wrapped->size = elements;
    if (nodes_index(wrapped) < 0)
        goto done;
    if (!(parents = as_list(w->parent.items, elements)) ||
        !(uppers = as_list(w->upper.items, elements)) ||
        !(text = as_list(o_text, elements)) || !(links = as_list(o_links, elements)) ||
        !(punct = as_list(o_punct, elements)) || !(own = as_list(mine, elements)) ||
        !(own_punct = as_list(mine + elements + 1, elements)) ||
        !(starts = as_list(w->start.items, elements)) ||
        !(ends = as_list(w->end.items, elements)))
        goto done;
    result = PyTuple_Pack(12, nodes, parents, uppers, text, links, punct, own, own_punct, starts,
                          ends, by_id, w->texts);
done:
    PyMem_Free(sums);
    PyMem_Free(mine);
    PyMem_Free(out);
    Py_XDECREF(nodes);
    Py_XDECREF(by_id);
    Py_XDECREF(parents);
    Py_XDECREF(uppers);
    Py_XDECREF(text);
    Py_XDECREF(links);
    Py_XDECREF(punct);
    Py_XDECREF(own);
    Py_XDECREF(own_punct);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    return result;
}

static PyObject *measure(PyObject *module, PyObject *root)
{
    (void)module;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "xinwen.parse._walk is not configured");
        return NULL;
    }
    if (!PyObject_TypeCheck(root, node_type)) {
        PyErr_SetString(PyExc_TypeError, "measure() wants a selectolax LexborNode");
        return NULL;
    }
    node_t *node = node_of(root);
    PyObject *parser = *(PyObject **)((char *)root + parser_offset);
    if (node == NULL || parser == NULL) {
        PyErr_SetString(PyExc_ValueError, "measure() was given an empty LexborNode");
        return NULL;
    }
    walk_t w;
    memset(&w, 0, sizeof(w));
    w.texts = PyList_New(0);
    PyObject *result = NULL;
    if (w.texts != NULL && walk(&w, node, parser) == 0)
        result = columns(&w, parser);
    walk_free(&w);
    return result;
}

/* --- lines: the walk of `_tree.lines_python` ------------------------------------------ */

/* What `_tree._line_kind` says of a tag: bits, cached per static tag id as `static_kind` is. */
enum { LINE_BR = 1, LINE_BOLD = 2, LINE_BLOCK = 4, LINE_H1 = 64 };
static signed char static_line[STATIC_IDS];
static PyObject *line_kind_of = NULL; /* the function `static_line` was filled by */

static int line_kind(node_t *node, PyObject *parser, PyObject *function, PyObject *custom)
{
    return tag_answer(node, parser, function, static_line, custom, 127);
}

typedef struct {
    PyObject *out;   /* list of (text, level, all bold) */
    PyObject *parts; /* the current line's text pieces */
    Py_ssize_t bold, all;
} line_t;

/* `flush` of `lines_python`: the pieces so far as one line, if there are any. */
static int flush(line_t *l, long level)
{
    if (PyList_GET_SIZE(l->parts) == 0)
        return 0;
    PyObject *empty = PyUnicode_New(0, 0);
    PyObject *text = empty ? PyUnicode_Join(empty, l->parts) : NULL;
    Py_XDECREF(empty);
    if (text == NULL || PyList_SetSlice(l->parts, 0, PyList_GET_SIZE(l->parts), NULL) < 0) {
        Py_XDECREF(text);
        return -1;
    }
    int all_bold = l->bold > 0 && l->bold >= l->all;
    l->bold = l->all = 0;
    PyObject *line = Py_BuildValue("(NlO)", text, level, all_bold ? Py_True : Py_False);
    int failed = line == NULL || PyList_Append(l->out, line) < 0;
    Py_XDECREF(line);
    return failed ? -1 : 0;
}

/* len(text.strip()) */
static Py_ssize_t stripped_length(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t start = 0, end = PyUnicode_GET_LENGTH(text);
    while (start < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, start)))
        start++;
    while (end > start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end - 1)))
        end--;
    return end - start;
}

typedef struct {
    node_t *node;
    long level;
    int in_bold, ends_block;
} line_frame_t;

static PyObject *lines(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *root_obj, *by_id, *first, *furniture, *kind_function, *is_title;
    Py_ssize_t budget;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "xinwen.parse._walk is not configured");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!OOOOOn", node_type, &root_obj, &by_id, &first, &furniture,
                          &kind_function, &is_title, &budget))
        return NULL;
    /* `by_id`: the C walk's Nodes (looked up in C) or `measure_python`'s dict. */
    nodes_t *elements = Py_IS_TYPE(by_id, &nodes_type) ? (nodes_t *)by_id : NULL;
    if (elements == NULL && !PyDict_Check(by_id))
        return PyErr_Format(PyExc_TypeError, "lines() wants the elements' Nodes or a dict");
    if (kind_function != line_kind_of) {
        memset(static_line, -1, sizeof(static_line));
        Py_INCREF(kind_function);
        Py_XSETREF(line_kind_of, kind_function);
    }
    node_t *root = node_of(root_obj);
    PyObject *parser = *(PyObject **)((char *)root_obj + parser_offset);
    if (root == NULL || parser == NULL) {
        PyErr_SetString(PyExc_ValueError, "lines() was given an empty LexborNode");
        return NULL;
    }
    line_t l = {PyList_New(0), PyList_New(0), 0, 0};
    PyObject *custom = PyDict_New();
    line_frame_t *stack = NULL;
    Py_ssize_t depth = 0, capacity = 0;
    long level = 0;
    int in_bold = 0, ends_block = 0, failed = l.out == NULL || l.parts == NULL || custom == NULL;
    node_t *node = failed ? NULL : root;
    while (node != NULL) {
        int descend = 0;
        if (node->type == NODE_TEXT) {
            chardata_t *chars = (chardata_t *)node;
            PyObject *content =
                chars->data ? PyUnicode_DecodeUTF8((const char *)chars->data,
                                                   (Py_ssize_t)chars->length, "replace")
                            : PyUnicode_New(0, 0);
            if (content != NULL && PyUnicode_GET_LENGTH(content) > budget) {
                PyObject *cut = PyUnicode_Substring(content, 0, budget);
                Py_SETREF(content, cut);
            }
            if (content == NULL || PyList_Append(l.parts, content) < 0) {
                Py_XDECREF(content);
                failed = 1;
                break;
            }
            budget -= PyUnicode_GET_LENGTH(content);
            Py_ssize_t size = stripped_length(content);
            Py_DECREF(content);
            if (budget <= 0)
                break; /* out of budget: what is open is not closed (no flush but the last) */
            l.all += size;
            if (in_bold)
                l.bold += size;
        } else if (node->type == NODE_ELEMENT) {
            /* The element's context, as `lines_python` sets it. */
            long inner_level = level;
            int inner_bold = in_bold, inner_ends = 0, skip = 0;
            int k = line_kind(node, parser, kind_function, custom);
            if (k < 0) {
                failed = 1;
                break;
            }
            if (k & LINE_BR) {
                if (flush(&l, 0) < 0) {
                    failed = 1;
                    break;
                }
            } else {
                PyObject *index = NULL; /* a new reference */
                if (elements != NULL) {
                    Py_ssize_t found = nodes_find(elements, node);
                    index = found >= 0 ? PyLong_FromSsize_t(found) : NULL;
                } else {
                    PyObject *key = PyLong_FromSize_t((size_t)(uintptr_t)node);
                    index = key ? PyDict_GetItemWithError(by_id, key) : NULL;
                    Py_XINCREF(index);
                    Py_XDECREF(key);
                }
                if (index == NULL) {
                    if (PyErr_Occurred()) {
                        failed = 1;
                        break;
                    }
                    skip = 1; /* dropped tags, and what measure did not measure */
                } else {
                    /* `first`, the root's index, is never furniture. */
                    int equal = first != Py_None && PyObject_RichCompareBool(index, first, Py_EQ);
                    PyObject *answer = equal == 0 ? PyObject_CallOneArg(furniture, index) : NULL;
                    int truth = answer ? PyObject_IsTrue(answer) : 0;
                    Py_XDECREF(answer);
                    Py_DECREF(index);
                    if (equal < 0 || (equal == 0 && (answer == NULL || truth < 0))) {
                        failed = 1;
                        break;
                    }
                    skip = equal == 0 && truth;
                }
                if (!skip && (k & LINE_BLOCK)) {
                    if (flush(&l, 0) < 0) {
                        failed = 1;
                        break;
                    }
                    int heading = (k >> 3) & 3;
                    if (heading)
                        inner_level = heading;
                    if ((k & LINE_H1) && is_title != Py_None) {
                        PyObject *obj = wrap(node, parser);
                        PyObject *answer = obj ? PyObject_CallOneArg(is_title, obj) : NULL;
                        Py_XDECREF(obj);
                        int truth = answer ? PyObject_IsTrue(answer) : -1;
                        Py_XDECREF(answer);
                        if (truth < 0) {
                            failed = 1;
                            break;
                        }
                        skip = truth;
                    }
                    inner_ends = !skip;
                }
                if (!skip && (k & LINE_BOLD))
                    inner_bold = 1;
            }
            if (!skip && node->first_child != NULL) {
                if (depth == capacity) {
                    capacity = capacity ? capacity * 2 : 64;
                    line_frame_t *grown =
                        PyMem_Realloc(stack, (size_t)capacity * sizeof(line_frame_t));
                    if (grown == NULL) {
                        PyErr_NoMemory();
                        failed = 1;
                        break;
                    }
                    stack = grown;
                }
                stack[depth++] = (line_frame_t){node, level, in_bold, ends_block};
                level = inner_level;
                in_bold = inner_bold;
                ends_block = inner_ends;
                descend = 1;
            } else if (!skip && inner_ends && flush(&l, inner_level) < 0) {
                failed = 1; /* an empty block closes at once */
                break;
            }
        }
        if (descend) {
            node = node->first_child;
            continue;
        }
        while (node != root && node->next == NULL) {
            node = node->parent;
            if (depth == 0 || stack[depth - 1].node != node) {
                PyErr_SetString(PyExc_RuntimeError, "lexbor tree walk lost its place");
                failed = 1;
                break;
            }
            if (ends_block && flush(&l, level) < 0) {
                failed = 1;
                break;
            }
            line_frame_t *frame = &stack[--depth];
            level = frame->level;
            in_bold = frame->in_bold;
            ends_block = frame->ends_block;
        }
        if (failed || node == root)
            break;
        node = node->next;
    }
    if (!failed && flush(&l, 0) < 0)
        failed = 1;
    PyMem_Free(stack);
    Py_XDECREF(custom);
    Py_XDECREF(l.parts);
    if (failed) {
        Py_XDECREF(l.out);
        return NULL;
    }
    return l.out;
}

/* --- many_block_tags: `_tree.many_block_tags_python` ------------------------------------ */

/* The '<' in the text: no early exit, so that the compiler vectorizes the loop (-ftree-vectorize:
 * gcc 12's -O2 alone does not, and is then slower than str.count). */
#define COUNT_LT(T)                                                                               \
    {                                                                                             \
        const T *s = (const T *)data;                                                             \
        for (Py_ssize_t i = 0; i < n; i++)                                                        \
            lt += s[i] == '<';                                                                    \
    }
/* "<div", "<DIV" and "<li", at each '<': none can overlap another, so one pass counts what three
 * str.count calls do. */
#define COUNT_BLOCKS(T)                                                                           \
    {                                                                                             \
        const T *s = (const T *)data;                                                             \
        for (Py_ssize_t i = 0; i + 2 < n; i++) {                                                  \
            if (s[i] != '<')                                                                      \
                continue;                                                                         \
            if (s[i + 1] == 'l' && s[i + 2] == 'i')                                               \
                blocks++;                                                                         \
            else if (i + 3 < n && ((s[i + 1] == 'd' && s[i + 2] == 'i' && s[i + 3] == 'v') ||     \
                                   (s[i + 1] == 'D' && s[i + 2] == 'I' && s[i + 3] == 'V')))      \
                blocks++;                                                                         \
        }                                                                                         \
    }

static PyObject *many_block_tags(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *text;
    Py_ssize_t limit, lt = 0, blocks = 0;
    if (!PyArg_ParseTuple(args, "Un", &text, &limit))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    int kind = PyUnicode_KIND(text);
    switch (kind) {
    case PyUnicode_1BYTE_KIND:
        COUNT_LT(Py_UCS1)
        break;
    case PyUnicode_2BYTE_KIND:
        COUNT_LT(Py_UCS2)
        break;
    default:
        COUNT_LT(Py_UCS4)
    }
    if (lt < limit)
        Py_RETURN_FALSE;
    switch (kind) {
    case PyUnicode_1BYTE_KIND:
        COUNT_BLOCKS(Py_UCS1)
        break;
    case PyUnicode_2BYTE_KIND:
        COUNT_BLOCKS(Py_UCS2)
        break;
    default:
        COUNT_BLOCKS(Py_UCS4)
    }
    return PyBool_FromLong(blocks >= limit);
}

/* --- select: `picks.select` -------------------------------------------------------------- */

/* A whole-document CSS query costs ~0.12 ms a corpus page in Lexbor whatever it asks (its selector
 * engine visits every node), and the extractor makes five: this one walk answers a few queries
 * of the simple kind they are (tag, attribute present, equal, containing), 0.8 -> 0.1 ms. */

enum { TEST_HAS = 0, TEST_EQUALS = 1, TEST_CONTAINS = 2 };
#define MAX_TESTS 64
#define MAX_VALUES 256

typedef struct {
    const char *name;
    Py_ssize_t name_length;
    int op;
    Py_ssize_t first, count; /* its values: values[first : first + count] */
    unsigned char starts[32]; /* bitmap of the values' first bytes (TEST_CONTAINS) */
    element_value_f read; /* class_of or id_of for a value test of those, else NULL */
} test_t;

typedef struct {
    const char *data;
    Py_ssize_t length;
} value_t;

static int ascii_equal_ci(const unsigned char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

static int passes(node_t *node, const test_t *t, const value_t *values)
{
    size_t length = 0;
    const unsigned char *value;
    if (t->read != NULL) { /* (a value test: the attribute missing and no value both fail it) */
        value = t->read(node, &length);
    } else {
        void *attr = attr_by_name(node, (const unsigned char *)t->name, (size_t)t->name_length);
        if (attr == NULL)
            return 0;
        if (t->op == TEST_HAS)
            return 1;
        value = attr_value(attr, &length);
    }
    if (value == NULL)
        length = 0;
    for (Py_ssize_t v = t->first; v < t->first + t->count; v++) {
        size_t n = (size_t)values[v].length;
        if (t->op == TEST_EQUALS) {
            if (n == length && ascii_equal_ci(value, values[v].data, n))
                return 1;
        }
    }
    if (t->op == TEST_CONTAINS) {
        for (size_t i = 0; i < length; i++) {
            unsigned char c = value[i];
            if (!(t->starts[c >> 3] & (1u << (c & 7))))
                continue;
            for (Py_ssize_t v = t->first; v < t->first + t->count; v++) {
                size_t n = (size_t)values[v].length;
                if (n <= length - i && (unsigned char)values[v].data[0] == c &&
                    memcmp(value + i, values[v].data, n) == 0)
                    return 1;
            }
        }
    }
    return 0;
}

typedef struct {
    long tag; /* -1: any */
    Py_ssize_t first, count; /* its tests */
} selector_t;

static PyObject *select_nodes(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *root_obj, *queries;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "xinwen.parse._walk is not configured");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!O!", node_type, &root_obj, &PyTuple_Type, &queries))
        return NULL;
    /* queries: ((selector, ...), ...); selector: (tag id or -1, ((name, op, (value, ...)), ...)) */
    Py_ssize_t nqueries = PyTuple_GET_SIZE(queries), nselectors = 0, ntests = 0, nvalues = 0;
    selector_t selectors[MAX_TESTS];
    Py_ssize_t query_end[MAX_TESTS]; /* each query's selectors end here */
    test_t tests[MAX_TESTS];
    value_t values[MAX_VALUES];
    if (nqueries > MAX_TESTS)
        return PyErr_Format(PyExc_ValueError, "too many queries");
    for (Py_ssize_t q = 0; q < nqueries; q++) {
        PyObject *query = PyTuple_GET_ITEM(queries, q);
        if (!PyTuple_Check(query))
            return PyErr_Format(PyExc_TypeError, "a query is a tuple of selectors");
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(query); k++) {
            PyObject *tests_of;
            long tag;
            if (nselectors == MAX_TESTS)
                return PyErr_Format(PyExc_ValueError, "too many selectors");
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(query, k), "lO!", &tag, &PyTuple_Type,
                                  &tests_of))
                return NULL;
            selector_t *sel = &selectors[nselectors++];
            sel->tag = tag;
            sel->first = ntests;
            sel->count = PyTuple_GET_SIZE(tests_of);
            for (Py_ssize_t t = 0; t < sel->count; t++) {
                PyObject *vals;
                if (ntests == MAX_TESTS)
                    return PyErr_Format(PyExc_ValueError, "too many tests");
                test_t *test = &tests[ntests++];
                memset(test, 0, sizeof(*test));
                if (!PyArg_ParseTuple(PyTuple_GET_ITEM(tests_of, t), "y#iO!", &test->name,
                                      &test->name_length, &test->op, &PyTuple_Type, &vals))
                    return NULL;
                if (test->op < TEST_HAS || test->op > TEST_CONTAINS)
                    return PyErr_Format(PyExc_ValueError, "unknown test %d", test->op);
                if (test->op != TEST_HAS && test->name_length == 5 &&
                    memcmp(test->name, "class", 5) == 0)
                    test->read = class_of;
                else if (test->op != TEST_HAS && test->name_length == 2 &&
                         memcmp(test->name, "id", 2) == 0)
                    test->read = id_of;
                test->first = nvalues;
                test->count = PyTuple_GET_SIZE(vals);
                for (Py_ssize_t v = 0; v < test->count; v++) {
                    if (nvalues == MAX_VALUES)
                        return PyErr_Format(PyExc_ValueError, "too many values");
                    char *data;
                    Py_ssize_t length;
                    if (PyBytes_AsStringAndSize(PyTuple_GET_ITEM(vals, v), &data, &length) < 0)
                        return NULL;
                    if (length == 0)
                        return PyErr_Format(PyExc_ValueError, "an empty value matches nothing");
                    values[nvalues].data = data;
                    values[nvalues].length = length;
                    unsigned char c = (unsigned char)data[0];
                    test->starts[c >> 3] |= (unsigned char)(1u << (c & 7));
                    nvalues++;
                }
            }
        }
        query_end[q] = nselectors;
    }
    node_t *root = node_of(root_obj);
    PyObject *parser = *(PyObject **)((char *)root_obj + parser_offset);
    if (root == NULL || parser == NULL) {
        PyErr_SetString(PyExc_ValueError, "select() was given an empty LexborNode");
        return NULL;
    }
    PyObject *found = PyTuple_New(nqueries);
    if (found == NULL)
        return NULL;
    for (Py_ssize_t q = 0; q < nqueries; q++) {
        PyObject *list = PyList_New(0);
        if (list == NULL) {
            Py_DECREF(found);
            return NULL;
        }
        PyTuple_SET_ITEM(found, q, list);
    }
    node_t *node = root;
    while (node != NULL) {
        if (node->type == NODE_ELEMENT) {
            Py_ssize_t start = 0;
            for (Py_ssize_t q = 0; q < nqueries; q++) {
                long times = 0;
                for (Py_ssize_t k = start; k < query_end[q]; k++) {
                    const selector_t *sel = &selectors[k];
                    if (sel->tag >= 0 && node->local_name != (uintptr_t)sel->tag)
                        continue;
                    int ok = 1;
                    for (Py_ssize_t t = sel->first; ok && t < sel->first + sel->count; t++)
                        ok = passes(node, &tests[t], values);
                    times += ok;
                }
                start = query_end[q];
                /* Lexbor lists an element once for each selector of the list it matches. */
                for (long i = 0; i < times; i++) {
                    PyObject *obj = wrap(node, parser);
                    int failed = obj == NULL || PyList_Append(PyTuple_GET_ITEM(found, q), obj) < 0;
                    Py_XDECREF(obj);
                    if (failed) {
                        Py_DECREF(found);
                        return NULL;
                    }
                }
            }
        }
        if (node->first_child != NULL && node->type == NODE_ELEMENT) {
            node = node->first_child;
            continue;
        }
        while (node != root && node->next == NULL)
            node = node->parent;
        if (node == root)
            break;
        node = node->next;
    }
    return found;
}

/* The offset of the one pointer-sized word in `obj`'s own fields that equals `value`, or -1. */
static Py_ssize_t find_word(PyObject *obj, uintptr_t value)
{
    Py_ssize_t found = -1;
    for (Py_ssize_t at = (Py_ssize_t)sizeof(PyObject);
         at + (Py_ssize_t)sizeof(void *) <= Py_TYPE(obj)->tp_basicsize; at += sizeof(void *)) {
        if (*(uintptr_t *)((char *)obj + at) == value) {
            if (found >= 0)
                return -1;
            found = at;
        }
    }
    return found;
}

static PyObject *configure(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *sample, *probe, *kind_function;
    const char *library;
    Py_ssize_t texts;
    if (!PyArg_ParseTuple(args, "OOOsn", &sample, &probe, &kind_function, &library, &texts))
        return NULL;
    /* Nothing is changed until every check has passed: a failed call leaves the module as it was.
     * `sample`: a LexborNode; find its node pointer and parser among its fields. */
    PyObject *mem_id = PyObject_GetAttrString(sample, "mem_id");
    PyObject *parser = PyObject_GetAttrString(sample, "parser");
    size_t address = mem_id ? PyLong_AsSize_t(mem_id) : 0;
    Py_XDECREF(mem_id);
    if (parser == NULL || PyErr_Occurred()) {
        Py_XDECREF(parser);
        return NULL;
    }
    Py_ssize_t at_node = find_word(sample, (uintptr_t)address);
    Py_ssize_t at_parser = find_word(sample, (uintptr_t)parser);
    Py_DECREF(parser);
    if (at_node < 0 || at_parser < 0 || at_node == at_parser)
        return PyErr_Format(PyExc_RuntimeError, "LexborNode's fields not found");
    /* `probe`: (div, p, text, b) mem_ids and tag ids of <div><p>x</p><b>y</b></div>. */
    Py_ssize_t div, p, text, b, div_id, p_id;
    if (!PyArg_ParseTuple(probe, "nnnnnn", &div, &p, &text, &b, &div_id, &p_id))
        return NULL;
    /* Fields holding pointers are compared with the probe's before any is followed. */
    node_t *d = (node_t *)(uintptr_t)div, *pn = (node_t *)(uintptr_t)p;
    node_t *tn = (node_t *)(uintptr_t)text, *bn = (node_t *)(uintptr_t)b;
    chardata_t *tc = (chardata_t *)tn;
    if (d->type != NODE_ELEMENT || d->first_child != pn || d->last_child != bn ||
        pn->next != bn || bn->prev != pn || pn->parent != d || pn->first_child != tn ||
        tn->parent != pn || tn->type != NODE_TEXT || tc->length != 1 || tc->data == NULL ||
        tc->data[0] != 'x' || d->local_name != (uintptr_t)div_id ||
        pn->local_name != (uintptr_t)p_id)
        return PyErr_Format(PyExc_RuntimeError, "lexbor's node layout is not the one assumed");
    void *handle = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
    attr_by_name_f found = handle ? (attr_by_name_f)dlsym(handle, "lxb_dom_element_attr_by_name")
                                  : NULL;
    attr_value_f value_of = handle ? (attr_value_f)dlsym(handle, "lxb_dom_attr_value_noi") : NULL;
    element_value_f classes = handle ? (element_value_f)dlsym(handle, "lxb_dom_element_class_noi")
                                     : NULL;
    element_value_f ids = handle ? (element_value_f)dlsym(handle, "lxb_dom_element_id_noi") : NULL;
    if (found == NULL || value_of == NULL || classes == NULL || ids == NULL)
        return PyErr_Format(PyExc_RuntimeError, "lexbor's attribute functions not found in %s",
                            library);
    Py_INCREF(Py_TYPE(sample));
    Py_XSETREF(node_type, Py_TYPE(sample));
    Py_INCREF(kind_function);
    Py_XSETREF(kind_of, kind_function);
    node_offset = at_node;
    parser_offset = at_parser;
    attr_by_name = found;
    attr_value = value_of;
    class_of = classes;
    id_of = ids;
    max_texts = texts;
    memset(static_kind, -1, sizeof(static_kind));
    configured = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(sample, probe, kind, library, max_texts): check the layouts and set up."},
    {"measure", measure, METH_O,
     "measure(root) -> the columns of _tree.Measured, in the order of its fields."},
    {"many_block_tags", many_block_tags, METH_VARARGS,
     "many_block_tags(html, limit) -> whether html has `limit` tags and `limit` block tags."},
    {"select", select_nodes, METH_VARARGS,
     "select(root, queries) -> for each query, the elements under root (root too) it finds."},
    {"lines", lines, METH_VARARGS,
     "lines(root, by_id, first, furniture, line_kind, is_title, budget) -> [(text, level, bold)]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_walk", "The walk of xinwen.parse._tree.measure, in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__walk(void)
{
    if (PyType_Ready(&nodes_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&nodes_type);
    if (PyModule_AddObject(m, "Nodes", (PyObject *)&nodes_type) < 0) {
        Py_DECREF(&nodes_type);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
