//! Text to a tree: tokens, then a recursive-descent parser for one assignment.

use std::rc::Rc;

use super::{Assignment, Expression, Object, Operator};

/// Parses `name[expr]...[expr] = expr` with `+`, `-`, `*`, brackets, numbers and names.
pub(crate) fn parse(source: &str) -> Result<Assignment, String> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, at: 0 };
    let Some(Token::Name(target)) = parser.next() else {
        return Err("a rule starts with the name it assigns to".into());
    };
    let mut indices = Vec::new();
    while parser.eat(&Token::Symbol('[')) {
        indices.push(parser.sum()?);
        parser.expect(']')?;
    }
    parser.expect('=')?;
    let value = parser.sum()?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the rule".into());
    }
    Ok(Assignment {
        target,
        indices,
        value,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64, bool),
    Name(String),
    Symbol(char),
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = source.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_digit() || c == '.' {
            let mut text = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                text.push(d);
                chars.next();
            }
            let number = text.parse().map_err(|_| format!("bad number '{text}'"))?;
            tokens.push(Token::Number(number, !text.contains('.')));
        } else if c.is_alphabetic() || c == '_' {
            let mut text = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphanumeric() || **d == '_') {
                text.push(d);
                chars.next();
            }
            tokens.push(Token::Name(text));
        } else if "[]()+-*=".contains(c) {
            tokens.push(Token::Symbol(c));
            chars.next();
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.tokens.get(self.at) == Some(token);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        if self.eat(&Token::Symbol(symbol)) {
            Ok(())
        } else {
            Err(format!("expected '{symbol}'"))
        }
    }

    fn sum(&mut self) -> Result<Expression, String> {
        let mut left = self.product()?;
        loop {
            let operator = if self.eat(&Token::Symbol('+')) {
                Operator::Add
            } else if self.eat(&Token::Symbol('-')) {
                Operator::Subtract
            } else {
                return Ok(left);
            };
            left = Expression::Binary(operator, Box::new(left), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Expression, String> {
        let mut left = self.operand()?;
        while self.eat(&Token::Symbol('*')) {
            left = Expression::Binary(
                Operator::Multiply,
                Box::new(left),
                Box::new(self.operand()?),
            );
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expression, String> {
        let mut operand = match self.next() {
            Some(Token::Number(value, true)) => {
                Expression::Constant(Rc::new(Object::Int(value as i64)))
            }
            Some(Token::Number(value, false)) => {
                Expression::Constant(Rc::new(Object::Float(value)))
            }
            Some(Token::Name(name)) if self.eat(&Token::Symbol('(')) => {
                let argument = self.sum()?;
                self.expect(')')?;
                Expression::Call(name, Box::new(argument))
            }
            Some(Token::Name(name)) => Expression::Name(name),
            Some(Token::Symbol('(')) => {
                let inner = self.sum()?;
                self.expect(')')?;
                inner
            }
            other => return Err(format!("expected a number, a name or '(', found {other:?}")),
        };
        while self.eat(&Token::Symbol('[')) {
            let index = self.sum()?;
            self.expect(']')?;
            operand = Expression::Index(Box::new(operand), Box::new(index));
        }
        Ok(operand)
    }
}
